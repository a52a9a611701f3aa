// Overlay quotas and a disk-flooding neighbour under Bochs (one CPU,
// `clock: sync=none`, shares in exact instruction counts, as the
// scheduler tests measure them), driven by test/guests/disk_flood.c:
//  - baseline: the victim (spins, and writes and reads its own disk) next
//    to a CPU hog of the same weight: its fair share;
//  - flood: the same victim next to a VM whose rw disk may hold 1 MiB
//    ("overlay_max_mib": 1) and that writes past it, then keeps writing,
//    every write refused, for longer than the victim runs. The flooder
//    gets IOERR past its quota, one `@cg disk-quota vm=flood disk=0`
//    marker says why, what it holds stays usable, and the victim's disk
//    requests all complete while it keeps >= 95 % of its baseline share.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot, explain, markersOf, ROOT, type BootOutcome } from './pool.js';
import { spinOf } from './spin.js';
import { baseImage, fields, vblkLines } from './vblk.js';

const GUESTS = join(ROOT, 'build', 'guests');
const QUOTA_MIB = 1;
/** Million TSC ticks: the victim's window, and the neighbours' (longer, so they compete throughout). */
const VICTIM_WINDOW = 100;
const NEIGHBOUR_WINDOW = 150;

const dir = mkdtempSync(join(tmpdir(), 'cg-disk-quota-'));
const imagePath = join(dir, 'base.img');
writeFileSync(imagePath, baseImage(8192)); // 4 MiB: the quota ends the flood, not the disk

const victim = { name: 'victim', memory_mib: 16, vcpus: 1, kernel: 'disk_flood.elf', cmdline: `window=${VICTIM_WINDOW}`, disks: [{ image: 'base', mode: 'rw' }] };

const quotaBoot = (neighbour: object) =>
  boot({
    emulator: 'bochs',
    image: { kind: 'iso-variant', vmsBase: GUESTS, vms: { policy: 'fair', images: { base: imagePath }, vms: [victim, neighbour] } },
    cpus: 1,
    memMiB: 256,
    until: /^@cg vms-done/,
    timeoutMs: 300_000,
  });

const baseline = quotaBoot({ name: 'hog', memory_mib: 16, vcpus: 1, kernel: 'spinner.elf', cmdline: `window=${NEIGHBOUR_WINDOW}` });
const flooded = quotaBoot({
  name: 'flood',
  memory_mib: 16,
  vcpus: 1,
  kernel: 'disk_flood.elf',
  cmdline: `flood=1 quota=${QUOTA_MIB} window=${NEIGHBOUR_WINDOW}`,
  disks: [{ image: 'base', mode: 'rw', overlay: 'discard', overlay_max_mib: QUOTA_MIB }],
});
for (const p of [baseline, flooded]) p.catch(() => {});

const exitOf = (o: BootOutcome, vm: string) => markersOf(o, 'vm-exit').find((m) => m.fields.name === vm)?.fields.status;

function victimShare(o: BootOutcome): number {
  const s = spinOf(o, 'victim');
  assert.ok(s, explain(o, 'no spin report from the victim'));
  const v = vblkLines(o, 'victim').find((l) => l.startsWith('victim '));
  assert.ok(v, explain(o, 'no disk report from the victim'));
  const f = fields(v!);
  assert.ok(Number(f.requests) > 0 && f.failed === '0', explain(o, `the victim's disk requests all completed (${v})`));
  assert.is(exitOf(o, 'victim'), '1', explain(o, 'the victim passed its checks'));
  return s!.share;
}

test('overlay quota: the flooder gets IOERR past it and one disk-quota marker; what it holds stays usable', async () => {
  const o = await flooded;
  assert.is(o.status, 'matched', explain(o, 'the VMs did not all finish'));
  const q = vblkLines(o, 'flood').find((l) => l.startsWith('quota '));
  assert.ok(q, explain(o, 'no quota report from the flooder'));
  const f = fields(q!);
  const ok = Number(f.ok_bytes);
  // 1 MiB = 256 pages: one index page and 255 blocks, in 32 KiB writes.
  assert.ok(ok <= QUOTA_MIB << 20 && ok >= (QUOTA_MIB << 20) - 64 * 1024, explain(o, `${ok} bytes written before the first IOERR`));
  assert.ok(Number(f.refused) > 0 && f.rewrite === 'ok' && f.read === 'ok', explain(o, q!));
  assert.is(exitOf(o, 'flood'), '1', explain(o, 'the flooder saw exactly what it expected'));
  console.log(`  flooder: ${q}`);
  const marks = markersOf(o, 'disk-quota');
  assert.is(marks.length, 1, explain(o, 'one disk-quota marker, however many writes were refused'));
  assert.equal([marks[0]!.fields.vm, marks[0]!.fields.disk], ['flood', '0']);
  assert.is(markersOf(o, 'vm-stop').length, 0, explain(o, 'nothing stopped'));
});

test('a disk-flooding neighbour: the victim keeps >= 95 % of its share and every disk request', async () => {
  const entitled = victimShare(await baseline);
  const o = await flooded;
  const got = victimShare(o);
  console.log(`  victim share: ${got.toFixed(4)} next to the flooder, ${entitled.toFixed(4)} next to a CPU hog (${((got / entitled) * 100).toFixed(1)} %)`);
  assert.ok(got >= 0.95 * entitled, explain(o, `victim got ${((got / entitled) * 100).toFixed(1)} % of its share next to a CPU hog (${got.toFixed(3)} vs ${entitled.toFixed(3)})`));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
