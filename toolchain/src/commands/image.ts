// crossguard image: the GRUB ISO around a monitor ELF.

import { makeIso, type BootEntry } from '../image.js';

export interface ImageArgs {
  elf: string;
  out: string;
  cmdline?: string;
  entry?: BootEntry;
}

export default async function main(args: ImageArgs): Promise<void> {
  await makeIso({ elf: args.elf, out: args.out, cmdline: args.cmdline, entry: args.entry });
  if (process.stderr.isTTY) process.stderr.write(`crossguard: wrote ${args.out}\n`);
}
