// The guest halves of the disk work against a reference device: QEMU's
// own virtio-blk-pci (modern only, device 1AF4:1042) under TCG, no
// crossguard involved. If these pass and test/boot/disk.test.ts fails, the
// monitor's device is the one to look at.
//  - the vblk test guest (test/guests/vblk.c): write and read back,
//    checksum of the whole disk against the host file, a read-only disk,
//    its flood rate against QEMU's own throttling, and the descriptor loop
//    and oversized chain that QEMU answers with DEVICE_NEEDS_RESET;
//  - the Linux initramfs (toolchain/make-initramfs.sh) on Debian's kernel:
//    modules load, /dev/vda appears, it reads, writes and powers off.
// Each QEMU run takes one emulator slot of the pool (CG_TEST_JOBS).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from '../../qemu/which.js';
import { ROOT, slot } from './pool.js';
import { baseImage, fields, fnv1a, hex16, patternHex, SECTOR } from './vblk.js';

const QEMU = 'qemu-system-x86_64';
const VBLK = join(ROOT, 'build', 'guests', 'vblk.elf');
const KERNEL = process.env.CG_LINUX_KERNEL ?? '/var/cache/crossguard/vmlinuz';
const INITRD = join(ROOT, 'build', 'linux', 'initramfs.cpio.gz');
const SECTORS = 512;

const dir = mkdtempSync(join(tmpdir(), 'cg-virtio-qemu-'));
const image = baseImage(SECTORS);

interface Run {
  status: number | null;
  out: string;
}

/** Boots `kernel` under QEMU TCG with a copy of the base image as a modern virtio-blk disk. */
function qemu(name: string, kernel: string, append: string, opts: { drive?: string; initrd?: string; timeoutMs?: number } = {}): Promise<Run & { disk: string }> {
  const disk = join(dir, `${name}.img`);
  writeFileSync(disk, image);
  const args = [
    '-machine', 'q35', '-m', '128', '-display', 'none', '-no-reboot', '-serial', 'stdio',
    '-kernel', kernel, '-append', append,
    ...(opts.initrd ? ['-initrd', opts.initrd] : []),
    '-drive', `file=${disk},if=none,id=d0,format=raw${opts.drive ?? ''}`,
    '-device', 'virtio-blk-pci,drive=d0,disable-legacy=on',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
  ];
  return slot(
    () =>
      new Promise((res) =>
        execFile(QEMU, args, { timeout: opts.timeoutMs ?? 60_000, killSignal: 'SIGKILL', maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
          const code = err && 'code' in err && typeof err.code === 'number' ? err.code : err ? null : 0;
          res({ status: code, out: stdout.replace(/\r/g, '') + stderr, disk });
        }),
      ),
  );
}

const why = !findOnPath(QEMU) ? `${QEMU} is not installed` : !existsSync(VBLK) ? `${VBLK} is missing: run make guests` : null;
const vblk = (name: string, append: string, drive?: string) => (why ? null : qemu(name, VBLK, append, drive ? { drive } : {}));
const runs = {
  rw: vblk('rw', 'mode=rw-check sector=100 seed=161 count=2'),
  base: vblk('base', 'mode=read-base'),
  ro: vblk('ro', 'mode=rw-check sector=9 expect_ro=1', ',readonly=on'),
  throttled: vblk('throttled', 'mode=flood ms=2000 warm_ms=1000', ',throttling.iops-total=200'),
  loop: vblk('loop', 'mode=bad-ring bad=loop'),
  oversize: vblk('oversize', 'mode=bad-ring bad=oversize qsize=16'),
};
const linuxWhy = why ?? (!existsSync(KERNEL) ? `${KERNEL} is missing (toolchain/fetch-kernel.sh)` : !existsSync(INITRD) ? `${INITRD} is missing (make initramfs)` : null);
const linux = linuxWhy
  ? null
  : qemu('linux', KERNEL, 'console=ttyS0 quiet cg.tag=q1 cg.sector=100 cg.action=poweroff', { initrd: INITRD, timeoutMs: 120_000 });
for (const p of [...Object.values(runs), linux]) p?.catch(() => {});

const vblkOut = (r: Run) => r.out.split('\n').filter((l) => l.startsWith('VBLK ')).map((l) => l.slice(5));
const show = (r: Run) => `status ${r.status}\n${r.out.split('\n').slice(-20).join('\n')}`;

test('vblk guest on QEMU: write, read back, checksum, read-only', async () => {
  if (why) return console.log(`  (skipped: ${why})`);
  const rw = await runs.rw!;
  assert.is(rw.status, 1, show(rw));
  assert.ok(vblkOut(rw).includes('rw-check sector=100 seed=161 count=2 ok'), show(rw));
  assert.ok(vblkOut(rw).includes(`before sector=100 ${hex16(image, 100 * SECTOR)}`), show(rw));
  const after = readFileSync(rw.disk);
  assert.is(hex16(after, 100 * SECTOR), patternHex(161), 'the write reached the image file');
  assert.equal(after.subarray(0, 100 * SECTOR), image.subarray(0, 100 * SECTOR), 'nothing before it changed');
  assert.equal(after.subarray(102 * SECTOR), image.subarray(102 * SECTOR), 'nothing after its 2 sectors changed');

  const base = await runs.base!;
  assert.is(base.status, 1, show(base));
  assert.ok(vblkOut(base).includes(`read-base sectors=${SECTORS} fnv1a=0x${fnv1a(image).toString(16).padStart(8, '0')}`), show(base));

  const ro = await runs.ro!;
  assert.is(ro.status, 1, show(ro));
  assert.ok(vblkOut(ro).includes('rw-check sector=9 seed=1 count=1 refused'), show(ro));
  assert.match(vblkOut(ro).find((l) => l.startsWith('probe '))!, / ro=1 /);
});

test('vblk guest on QEMU: its measured rate matches QEMU throttling (200 iops) within 10 %', async () => {
  if (why) return console.log(`  (skipped: ${why})`);
  const r = await runs.throttled!;
  assert.is(r.status, 1, show(r));
  const f = fields(vblkOut(r).find((l) => l.startsWith('flood '))!);
  assert.ok(Math.abs(Number(f.iops) - 200) <= 20, `iops=${f.iops}: ${show(r)}`);
  assert.ok(Number(f.tsc_khz) > 0 && f.src !== 'unknown', show(r));
});

test('vblk guest on QEMU: a descriptor loop and an oversized chain get DEVICE_NEEDS_RESET; the device works after a reset', async () => {
  if (why) return console.log(`  (skipped: ${why})`);
  for (const kind of ['loop', 'oversize'] as const) {
    const r = await runs[kind]!;
    assert.is(r.status, 1, show(r));
    assert.ok(vblkOut(r).some((l) => l.startsWith(`bad=${kind} result=needs-reset `)), show(r));
    assert.ok(vblkOut(r).includes(`bad=${kind} after-reset=ok`), show(r));
  }
});

test('Linux initramfs on QEMU: virtio modules, /dev/vda read and written, power-off', async () => {
  if (linuxWhy) return console.log(`  (skipped: ${linuxWhy})`);
  const r = await linux!;
  const lines = r.out.split('\n').filter((l) => l.startsWith('CG-LINUX ')).map((l) => l.slice(9));
  assert.is(r.status, 0, `QEMU powered off: ${show(r)}`);
  assert.equal(lines.slice(0, 3), ['init', 'cpus=1', 'modules ok'], show(r));
  assert.ok(lines.includes(`disk-size sectors=${SECTORS}`), show(r));
  assert.ok(lines.some((l) => l.startsWith(`disk-read ${hex16(image)} sha256=`)), show(r));
  assert.ok(lines.includes(`disk-before sector=100 ${hex16(image, 100 * SECTOR)}`), show(r));
  assert.ok(lines.includes('disk-write ok sector=100'), show(r));
  assert.equal(lines.slice(-2), ['done errors=0', 'poweroff'], show(r));
  assert.is(readFileSync(r.disk).subarray(100 * SECTOR, 100 * SECTOR + 11).toString('latin1'), 'cg-mark q1\n', 'the marker is in the image file');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
