// crossguard image: the GRUB ISO around a monitor ELF.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeIso, type BootEntry } from '../image.js';
import { writeVmsCfg } from '../vmcfg.js';
import { readVmsFile } from './run-vms.js';

export interface ImageArgs {
  elf: string;
  out: string;
  cmdline?: string;
  entry?: BootEntry;
  /** A VM description to pack in (kernels, modules, vms.cfg). */
  vms?: string;
  /** Machine RAM the set must fit (MiB). */
  mem?: number;
}

export default async function main(args: ImageArgs): Promise<void> {
  const dir = args.vms ? mkdtempSync(join(tmpdir(), 'crossguard-image-')) : undefined;
  try {
    const modules = args.vms && dir ? writeVmsCfg(readVmsFile(args.vms, args.mem ?? 1024), dir) : undefined;
    await makeIso({ elf: args.elf, out: args.out, cmdline: args.cmdline, entry: args.entry, ...(modules ? { modules } : {}) });
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  if (process.stderr.isTTY) process.stderr.write(`crossguard: wrote ${args.out}\n`);
}
