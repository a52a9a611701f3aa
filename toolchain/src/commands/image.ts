// crossguard image: the GRUB ISO around a monitor ELF, or (--format pxe) a
// netboot tree (image-pxe.ts).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../../qemu/errors.js';
import { makeIso, type BootEntry } from '../image.js';
import { writeVmsCfg } from '../vmcfg.js';
import { checkSerialCmdline, withSerial } from '../serial.js';
import { readVmsFile } from './run-vms.js';

export interface ImageArgs {
  /** iso (default) or a netboot directory. */
  format?: 'iso' | 'pxe';
  elf: string;
  /** The ISO, or the tree's directory; default build/crossguard.iso or build/pxe. */
  out?: string;
  cmdline?: string;
  /** The monitor's serial port (cg.serial= value): folded into cmdline. */
  serial?: string;
  entry?: BootEntry;
  /** A VM description to pack in (kernels, modules, vms.cfg). */
  vms?: string;
  /** Machine RAM the set must fit (MiB). */
  mem?: number;
  /** pxe: MAC=FILE, one VM set per host. */
  host?: string[];
  /** pxe: where iPXE fetches payloads over HTTP. */
  httpBase?: string;
  /** pxe: the release id (default: from the content). */
  release?: string;
  /** pxe: the largest file the tree may hold (default TFTP_SAFE_FILE_BYTES). */
  maxFileBytes?: number;
}

export default async function main(a: ImageArgs): Promise<void> {
  const cmdline = withSerial(a.cmdline, a.serial);
  checkSerialCmdline(cmdline, '--cmdline');
  const args: ImageArgs = { ...a, ...(cmdline !== undefined ? { cmdline } : {}) };
  if (args.format === 'pxe') {
    if (args.entry !== undefined && args.entry !== 'multiboot2')
      throw new UsageError('--entry is for the ISO; a netboot tree boots iPXE with Multiboot1 and GRUB with Multiboot2');
    return (await import('./image-pxe.js')).default({ ...args, out: args.out ?? 'build/pxe' });
  }
  for (const [opt, v] of [['--host', args.host?.length ? args.host : undefined], ['--http-base', args.httpBase], ['--release', args.release], ['--max-file-bytes', args.maxFileBytes]] as const)
    if (v !== undefined) throw new UsageError(`${opt} is for --format pxe; an ISO has one VM set (--vms)`);
  const out = args.out ?? 'build/crossguard.iso';
  const dir = args.vms ? mkdtempSync(join(tmpdir(), 'crossguard-image-')) : undefined;
  try {
    const modules = args.vms && dir ? writeVmsCfg(readVmsFile(args.vms, args.mem ?? 1024), dir) : undefined;
    await makeIso({ elf: args.elf, out, cmdline: args.cmdline, entry: args.entry, ...(modules ? { modules } : {}) });
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  if (process.stderr.isTTY) process.stderr.write(`crossguard: wrote ${out}\n`);
}
