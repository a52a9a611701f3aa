// crossguard policy build: compile every firmware/policy/*.ts scheduler
// policy (AssemblyScript) to build/policy/<name>.wasm (+ .wat for reading),
// then check each against the ABI. The Makefile turns the .wasm files into
// C with wasm2c. Shared code under firmware/policy/lib/ is imported by the
// policies, never built on its own.

import asc from 'assemblyscript/asc';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { BuildError } from '../../qemu/errors.js';
import { checkPolicy } from './policy-check.js';

/** The compiler flags every policy is built with, and why. */
export const ASC_FLAGS = [
  '--optimize',
  // No garbage collector, no allocator to speak of: state lives in fixed
  // tables (memory.data), so nothing is ever freed.
  '--runtime', 'stub',
  '--noAssert',
  // Aborts (bounds checks, assert) would need an env.abort import, which the
  // ABI does not allow; with no handler they become `unreachable`, a trap
  // the monitor catches.
  '--use', 'abort=',
  // One fixed page: initial == maximum, as the ABI wants.
  '--initialMemory', '1',
  '--maximumMemory', '1',
  // Plain loops instead of memory.fill/copy, for any wasm2c.
  '--disable', 'bulk-memory',
];

export interface BuiltPolicy {
  name: string;
  wasm: string;
  bytes: number;
}

/** The policy sources: firmware/policy/*.ts, sorted. */
export async function policySources(root: string): Promise<string[]> {
  const dir = join(root, 'firmware', 'policy');
  return (await readdir(dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort().map((f) => join(dir, f));
}

/** Compile one policy; throws BuildError with the compiler's diagnostics. */
export async function compilePolicy(root: string, source: string, outDir: string): Promise<BuiltPolicy> {
  const name = source.replace(/^.*\//, '').replace(/\.ts$/, '');
  const wasm = join(outDir, `${name}.wasm`);
  const stderr = asc.createMemoryStream();
  const stdout = asc.createMemoryStream();
  const r = await asc.main(
    [
      relative(root, source),
      '--baseDir', root,
      '--outFile', relative(root, wasm),
      '--textFile', relative(root, join(outDir, `${name}.wat`)),
      ...ASC_FLAGS,
      '--noColors',
    ],
    { stdout, stderr },
  ).catch((e: unknown) => ({ error: e as Error }));
  const diagnostics = stderr.toString().trim();
  if (r.error) {
    throw new BuildError(`policy ${name}: the AssemblyScript compiler failed (${r.error.message}); fix ${relative(root, source)}`, diagnostics || undefined);
  }
  const bytes = await readFile(wasm);
  await checkPolicy(bytes, wasm);
  return { name, wasm, bytes: bytes.length };
}

/** Compile and check every policy into outDir. */
export async function buildPolicies(root: string, out: string): Promise<BuiltPolicy[]> {
  const outDir = resolve(root, out);
  await mkdir(outDir, { recursive: true });
  const built: BuiltPolicy[] = [];
  for (const src of await policySources(root)) built.push(await compilePolicy(root, src, outDir));
  return built;
}
