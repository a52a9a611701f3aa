// The ABI is written down three times: policy_abi.h (the contract, for the
// monitor), toolchain/src/policy-abi.ts (for the checker and tests) and
// firmware/policy/lib/abi.ts (for the AssemblyScript policies); the README
// explains it. This test fails as soon as they disagree.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as abi from '../../toolchain/src/policy-abi.js';
import { ROOT } from './sim.js';

const header = readFileSync(join(ROOT, 'firmware', 'include', 'abi', 'policy_abi.h'), 'utf8');
const asAbi = readFileSync(join(ROOT, 'firmware', 'policy', 'lib', 'abi.ts'), 'utf8');
const readme = readFileSync(join(ROOT, 'firmware', 'policy', 'README.md'), 'utf8');

/** `name(a: i32, b: i64): i32` lines of the header's export list. */
function headerExports(): Record<string, abi.AbiFunction> {
  const out: Record<string, abi.AbiFunction> = {};
  for (const m of header.matchAll(/^ \* {3}(\w+)\(([^)]*)\): (\w+)$/gm)) {
    const params = m[2]!.split(',').filter((s) => s.trim()).map((s) => s.split(':')[1]!.trim() as abi.ValType);
    out[m[1]!] = { params, result: m[3] === 'void' ? null : (m[3] as abi.ValType) };
  }
  return out;
}

const defines = new Map([...header.matchAll(/^#define (POLICY_\w+) \(?(-?(?:0x)?[0-9A-Fa-f]+)\)?/gm)].map((m) => [m[1]!, Number(m[2])]));

test('the export list in policy_abi.h is the checker\'s list', () => {
  assert.equal(headerExports(), abi.POLICY_EXPORTS);
});

test('the numbers in policy_abi.h match policy-abi.ts and lib/abi.ts', () => {
  const names = [
    'POLICY_EINVAL', 'POLICY_ENOSPC', 'POLICY_EBUSY', 'POLICY_PARAM_WEIGHT', 'POLICY_PARAM_CAP',
    'POLICY_PARAM_RT_BUDGET', 'POLICY_PARAM_RT_PERIOD', 'POLICY_MAX_VCPUS', 'POLICY_MAX_CPUS', 'POLICY_MEMORY_PAGES_MAX',
  ] as const;
  for (const n of names) {
    assert.is((abi as unknown as Record<string, number>)[n], defines.get(n), `${n} in policy-abi.ts`);
  }
  for (const [n, v] of defines) {
    if (n === 'POLICY_ABI_VERSION' || n === 'POLICY_MEMORY_PAGES_MAX') continue;
    const m = asAbi.match(new RegExp(`export const ${n}: i32 = (-?(?:0x)?[0-9a-fA-F]+);`));
    assert.ok(m, `${n} missing from firmware/policy/lib/abi.ts`);
    assert.is(Number(m![1]), v, `${n} in lib/abi.ts`);
  }
});

test('the README describes every export', () => {
  for (const name of Object.keys(abi.POLICY_EXPORTS)) assert.match(readme, new RegExp(`\`${name}\\(`), name);
});

test.run();
