// crossguard policy build | check: the AssemblyScript scheduler policies.

import { relative, resolve } from 'node:path';
import { repoRoot } from '../paths.js';
import { buildPolicies } from '../policy-build.js';
import { checkPolicyFile } from '../policy-check.js';

export async function build(args: { out: string }): Promise<void> {
  const built = await buildPolicies(repoRoot(), resolve(process.cwd(), args.out));
  if (!process.stderr.isTTY) return;
  for (const p of built) {
    process.stderr.write(`crossguard: policy ${p.name}: ${relative(process.cwd(), p.wasm)} (${p.bytes} bytes, checked)\n`);
  }
}

export async function check(args: { files: string[] }): Promise<void> {
  for (const f of args.files) {
    await checkPolicyFile(f);
    if (process.stderr.isTTY) process.stderr.write(`crossguard: ${f}: follows the policy ABI\n`);
  }
}
