// crossguard build: make the monitor ELF and the boot ISO (the Makefile knows how).

import { spawn } from 'node:child_process';
import { BuildError } from '../../../qemu/errors.js';
import { repoRoot } from '../paths.js';

export const MAKE_TARGETS = ['build/crossguard.elf', 'build/crossguard.iso'];

/** Runs make in the repo root; its output goes to stderr (stdout stays free for serial output). */
export async function build(): Promise<void> {
  const root = repoRoot();
  const code = await new Promise<number | null>((res) => {
    const cp = spawn('make', ['-C', root, '-s', ...MAKE_TARGETS], { stdio: ['ignore', 2, 2] });
    cp.once('error', () => res(-1));
    cp.once('close', (c) => res(c));
  });
  if (code === -1) throw new BuildError('make is not installed; apt-get install make');
  if (code !== 0) throw new BuildError(`make failed (exit ${code}); see its output above, fix it, or pass --no-build`);
}

export default async function main(): Promise<void> {
  await build();
}
