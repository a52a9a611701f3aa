// Shared disks under Bochs, driven by the vblk test guest
// (test/guests/vblk.c) over virtio-blk on the monitor's PCI bus:
//  - one base image, three VMs: two write the same sector, each into its
//    own overlay, and neither sees the other's data; a read-only third VM
//    checksums the whole image before and after (started again from the
//    console once the writers are done) and gets the host file's checksum
//    both times; an operator reset keeps a "keep" overlay and throws a
//    "discard" one away;
//  - token buckets: VMs throttled by iops and by bytes a second get their
//    rate within 10 % while an unthrottled neighbour floods the same image
//    (and shows the limits are not just the machine's speed);
//  - bad rings (a descriptor loop, a buffer past the end of RAM, a chain
//    longer than the queue): the device refuses each, the VM runs on and a
//    neighbour's disk keeps working; nothing is stopped.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot, explain, markersOf, request, ROOT, type BootCase, type BootOutcome } from './pool.js';
import { baseImage, fields, fnv1a, hex16, patternHex, SECTOR, vblkLines } from './vblk.js';

const GUESTS = join(ROOT, 'build', 'guests');
const SECTORS = 512; // a 256 KiB image: quick to checksum in Bochs
const MARK = 100; // the sector both writers write
const SEED = { a: 0xa1, b: 0xb2 } as const;
/** Emulated instructions per emulated second (Bochs `ips`): near Bochs' real speed, so a second of guest time is about one of ours. */
const IPS = 50_000_000;
const RATE = { iops: 200, bytesPerS: 262_144, tolerance: 0.1 } as const;

const dir = mkdtempSync(join(tmpdir(), 'cg-disk-test-'));
const imagePath = join(dir, 'base.img');
const image = baseImage(SECTORS);
writeFileSync(imagePath, image);

const vblk = (name: string, cmdline: string, disks: object[]) => ({ name, memory_mib: 16, vcpus: 1, kernel: 'vblk.elf', cmdline, disks });
const rw = (overlay: 'keep' | 'discard', o: object = {}) => ({ image: 'base', mode: 'rw', overlay, ...o });
const ro = (o: object = {}) => ({ image: 'base', mode: 'ro', ...o });

/** p, marked handled so it may reject before it is awaited. */
function watch<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** The data of a successful @cg-rsp line, as JSON text. */
function rspData(line: string): string {
  const rsp = JSON.parse(line.slice('@cg-rsp '.length));
  assert.ok(rsp.ok, `request failed: ${line}`);
  return JSON.stringify(rsp.data);
}

/** One Bochs boot (2 CPUs, 256 MiB) of vblk VMs on the base image; the rest of the case as given. */
const diskBoot = (vms: object[], c: Omit<BootCase, 'emulator' | 'image' | 'cpus' | 'memMiB'>) =>
  boot({
    emulator: 'bochs',
    image: { kind: 'iso-variant', vmsBase: GUESTS, vms: { images: { base: imagePath }, vms } },
    cpus: 2,
    memMiB: 256,
    ...c,
  });

const shared = diskBoot(
  [
    vblk('a', `mode=rw-check sector=${MARK} seed=${SEED.a} linger=1`, [rw('keep')]),
    vblk('b', `mode=rw-check sector=${MARK} seed=${SEED.b} linger=1`, [rw('discard')]),
    vblk('r', 'mode=read-base', [ro()]),
  ],
  {
    until: /^@cg vm-exit name=r /,
    timeoutMs: 300_000,
    interact: async (m, waitFor) => {
      await waitFor(/^\[a\] VBLK linger/, 120_000, 0);
      await waitFor(/^\[b\] VBLK linger/, 120_000, 0);
      // What the operator sees: each disk, its overlay, its counters, and
      // that nothing of it survives a power cycle.
      const disks = JSON.parse(rspData(await request(m, waitFor, 'disks')));
      assert.is(disks.persistent, false, 'disks: overlays are said not to survive a power cycle');
      assert.match(disks.note, /power/, 'disks: the note says so in words');
      const diskOf = (vm: string) => disks.vms.find((v: { name: string }) => v.name === vm)?.disks?.[0];
      for (const [vm, onReset] of [['a', 'keep'], ['b', 'discard']] as const) {
        const d = diskOf(vm);
        assert.ok(d, `disks: ${vm} has a disk`);
        assert.equal([d.image, d.mode, d.on_reset, d.capacity], ['base', 'rw', onReset, image.length], `disks: ${vm}'s attachment`);
        assert.ok(d.overlay_blocks >= 1 && d.write_bytes >= SECTOR && d.requests >= 3, `disks: ${vm} wrote into its overlay (${JSON.stringify(d)})`);
        assert.is(d.overlay_quota_bytes, image.length + 4096, `disks: ${vm}'s default quota is the image and its index page (${JSON.stringify(d)})`);
        assert.ok(d.image_users >= 2, `disks: ${vm}'s image is one copy shared by the running VMs' disks (${d.image_users})`);
      }
      const stats = JSON.parse(rspData(await request(m, waitFor, 'stats a')));
      assert.ok(stats[0].devices['virtio-blk'] > 0 && stats[0].devices['pci-config'] > 0, `stats: a's exits by device (${JSON.stringify(stats[0].devices)})`);
      // Both writers are done: read the base again. (Each wait starts
      // before its request, so a fast answer is not missed.)
      const again = watch(waitFor(/^@cg vm-exit name=r /, 120_000));
      assert.match(await request(m, waitFor, 'vm start r'), /"ok":true/);
      await again;
      // An operator reset: "keep" keeps a's overlay, "discard" drops b's.
      const a2 = watch(waitFor(/^\[a\] VBLK rw-check/, 120_000));
      const b2 = watch(waitFor(/^\[b\] VBLK rw-check/, 120_000));
      assert.match(await request(m, waitFor, 'vm reset a'), /"ok":true/);
      assert.match(await request(m, waitFor, 'vm reset b'), /"ok":true/);
      await a2;
      await b2;
    },
  },
);

const throttled = diskBoot(
  [
    vblk('byiops', 'mode=flood ms=3000 warm_ms=1500 size=8', [ro({ iops: RATE.iops })]),
    vblk('bybytes', 'mode=flood ms=3000 warm_ms=1500 size=8', [ro({ bytes_per_s: RATE.bytesPerS })]),
    vblk('free', 'mode=flood ms=3000 warm_ms=1500 size=8', [ro()]),
  ],
  { ips: IPS, until: /^@cg vms-done/, timeoutMs: 600_000 },
);

const bad = diskBoot(
  [
    vblk('loop', 'mode=bad-ring bad=loop', [rw('discard')]),
    vblk('range', 'mode=bad-ring bad=range', [rw('discard')]),
    vblk('oversize', 'mode=bad-ring bad=oversize qsize=16', [rw('discard')]),
    vblk('good', `mode=rw-check sector=${MARK} seed=7`, [rw('discard')]),
  ],
  { until: /^@cg vms-done/, timeoutMs: 300_000 },
);
for (const p of [shared, throttled, bad]) p.catch(() => {});

/** A VM's exit status from its vm-exit marker, or undefined. */
const exitOf = (o: BootOutcome, vm: string) => markersOf(o, 'vm-exit').find((m) => m.fields.name === vm)?.fields.status;

test('one base image, two writers: private overlays, the base byte-identical, keep and discard on reset', async () => {
  const o = await shared;
  assert.is(o.status, 'matched', explain(o, 'the read-only VM never finished'));
  const base = hex16(image, MARK * SECTOR);
  for (const vm of ['a', 'b'] as const) {
    const lines = vblkLines(o, vm);
    const befores = lines.filter((l) => l.startsWith('before ')).map((l) => l.split(' ')[2]);
    const checks = lines.filter((l) => l.startsWith('rw-check '));
    assert.is(checks.length, 2, explain(o, `${vm}: two runs (boot and operator reset)`));
    assert.ok(checks.every((l) => l.endsWith(' ok')), explain(o, `${vm}: reads back what it wrote, both times`));
    assert.is(befores[0], base, explain(o, `${vm}: first sees the base image's sector ${MARK}, not the other writer's`));
    // After the reset: a's "keep" overlay still holds its own write; b's "discard" overlay is gone.
    assert.is(befores[1], vm === 'a' ? patternHex(SEED.a) : base, explain(o, `${vm}: sector ${MARK} after the reset`));
  }
  const sums = vblkLines(o, 'r').filter((l) => l.startsWith('read-base '));
  assert.is(sums.length, 2, explain(o, 'the read-only VM ran twice'));
  const want = `read-base sectors=${SECTORS} fnv1a=0x${fnv1a(image).toString(16).padStart(8, '0')}`;
  assert.equal(sums, [want, want], explain(o, 'the base image reads exactly as the host file, before and after the writes'));
  assert.equal(fnv1a(readFileSync(imagePath)), fnv1a(image), 'the host file itself is untouched');
  assert.is(exitOf(o, 'r'), '1', explain(o, 'the reader passed its checks'));
  assert.is(markersOf(o, 'vm-stop').length, 0, explain(o, 'nothing stopped'));
});

test(`token buckets: throttled rates within ${RATE.tolerance * 100} % while a neighbour floods`, async () => {
  const o = await throttled;
  assert.is(o.status, 'matched', explain(o, 'the flood VMs did not all finish'));
  const flood = (vm: string) => {
    const l = vblkLines(o, vm).find((x) => x.startsWith('flood '));
    assert.ok(l, explain(o, `${vm}: no flood report`));
    assert.is(exitOf(o, vm), '1', explain(o, `${vm}: every request completed`));
    return fields(l!);
  };
  const byIops = Number(flood('byiops').iops);
  const byBytes = Number(flood('bybytes').bps);
  const free = Number(flood('free').iops);
  const within = (got: number, want: number) => Math.abs(got - want) <= want * RATE.tolerance;
  assert.ok(free > 2 * RATE.iops, explain(o, `the unthrottled neighbour did ${free} requests a second: the machine must manage well over the ${RATE.iops} limit for the test to mean anything`));
  assert.ok(within(byIops, RATE.iops), explain(o, `iops-throttled VM: ${byIops} requests a second, want ${RATE.iops} ± ${RATE.tolerance * 100} %`));
  assert.ok(within(byBytes, RATE.bytesPerS), explain(o, `bytes-throttled VM: ${byBytes} bytes a second, want ${RATE.bytesPerS} ± ${RATE.tolerance * 100} %`));
});

test('bad rings: the device refuses a loop, an out-of-range buffer and an oversized chain; only it stops', async () => {
  const o = await bad;
  assert.is(o.status, 'matched', explain(o, 'the VMs did not all finish'));
  for (const kind of ['loop', 'range', 'oversize']) {
    const res = vblkLines(o, kind).find((l) => l.startsWith(`bad=${kind} result=`));
    assert.ok(res && /result=(needs-reset|ioerr) /.test(res), explain(o, `${kind}: the device must refuse the chain (${res ?? 'no result line'})`));
    assert.is(exitOf(o, kind), '1', explain(o, `${kind}: the guest ran on and passed its checks (range: RAM below the end unwritten)`));
  }
  assert.ok(vblkLines(o, 'good').some((l) => l === `rw-check sector=${MARK} seed=7 count=1 ok`), explain(o, "the neighbour's disk works throughout"));
  assert.is(exitOf(o, 'good'), '1', explain(o, 'the neighbour passed'));
  assert.is(markersOf(o, 'vm-stop').length, 0, explain(o, 'no VM was stopped: a bad ring stops only its device'));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
