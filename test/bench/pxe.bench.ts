// Network boot benchmarks, printed as `BENCH <name> <value> <unit>` lines
// for `make bench`; nothing here asserts a figure.
//   pxe_tree_bytes            a netboot tree for two hosts whose VM sets share
//                             a kernel (stored once), plus a default set:
//                             every file of the tree, manifest included
//   pxe_tree_payload_bytes    of which releases/<id>/ (monitor, payloads, sets, scripts)
//   pxe_boot_ready_ms_<path>  QEMU TCG in a lab namespace with dnsmasq and the
//                             HTTP server (payloads over HTTP): wall time from
//                             the emulator's start to the monitor's ready line,
//                             for bios-ipxe (QEMU's iPXE ROM), bios-grub (GRUB's
//                             core.0) and uefi-grub (OVMF's PXE, GRUB EFI);
//                             one boot each, one at a time, on a loaded 2-core
//                             machine: a figure to compare, not a timing claim

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_NET, type BiosLoader } from '../../toolchain/src/pxe/dnsmasq.js';
import { labNetUnavailable, startLabNet } from '../../toolchain/src/pxe/labnet.js';
import type { Manifest } from '../../toolchain/src/pxe/manifest.js';
import { boot, explain, ROOT } from '../boot/pool.js';

function bench(name: string, value: number | string, unit: string): void {
  console.log(`BENCH ${name} ${value} ${unit}`);
}

const CLI = join(ROOT, 'build', 'js', 'crossguard.mjs');
const GUESTS = join(ROOT, 'build', 'guests');
const dir = mkdtempSync(join(tmpdir(), 'cg-pxe-bench-'));
const tree = join(dir, 'tree');
const set = (name: string, vms: object[]) => {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify({ vms }));
  return p;
};
const vm = (name: string, kernel: string) => ({ name, memory_mib: 16, kernel: join(GUESTS, kernel) });

try {
  const made = spawnSync(
    process.execPath,
    [
      CLI, 'image', '--format', 'pxe', '--out', tree, '--cmdline', 'cg.shell=0', '--http-base', 'http://${next-server}',
      '--vms', set('default.json', [vm('spare', 'exitcode.elf')]),
      '--host', `52:54:00:00:00:0a=${set('a.json', [vm('web', 'echo.elf'), vm('code', 'exitcode.elf')])}`,
      '--host', `52:54:00:00:00:0b=${set('b.json', [vm('db', 'echo.elf'), vm('smp', 'smp.elf')])}`,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`image --format pxe failed: ${made.stderr}`);
  const man = JSON.parse(readFileSync(join(tree, 'manifest.json'), 'utf8')) as Manifest;
  const total = man.files.reduce((n, f) => n + f.size, 0) + statSync(join(tree, 'manifest.json')).size;
  bench('pxe_tree_bytes', total, 'bytes');
  bench('pxe_tree_payload_bytes', man.files.filter((f) => f.path.startsWith(`releases/${man.release}/`)).reduce((n, f) => n + f.size, 0), 'bytes');

  const why = labNetUnavailable();
  if (why) console.log(`pxe_boot_ready_ms: skipped (${why})`);
  else {
    const paths: { name: string; firmware: 'bios' | 'uefi'; loader: BiosLoader }[] = [
      { name: 'bios-ipxe', firmware: 'bios', loader: 'ipxe' },
      { name: 'bios-grub', firmware: 'bios', loader: 'grub' },
      { name: 'uefi-grub', firmware: 'uefi', loader: 'ipxe' }, // UEFI clients: dnsmasq's EFI rules, whatever the BIOS one
    ];
    for (const p of paths) {
      const lab = await startLabNet({
        tree,
        biosLoader: p.loader,
        http: { port: 80, command: [process.execPath, CLI, 'pxe-http-serve', tree, '--listen', `${LAB_NET.server}:80`] },
      });
      try {
        const o = await boot({
          emulator: 'qemu',
          image: { kind: 'net', mac: '52:54:00:00:00:0a', tap: { netns: lab.netns, ifname: lab.tap } },
          ...(p.firmware === 'uefi' ? { firmware: 'uefi' as const } : {}),
          cpus: 1,
          memMiB: 256,
          until: /^@cg ready /,
          timeoutMs: 180_000,
        });
        if (o.status !== 'matched') throw new Error(explain(o, `bench: ${p.name} did not reach the ready line\n${lab.log().slice(-2000)}`));
        bench(`pxe_boot_ready_ms_${p.name}`, o.bootMs, 'ms');
      } finally {
        await lab.close();
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
