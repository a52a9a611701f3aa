// The policy checker (toolchain/src/policy-check.ts) on the built policies
// and on small modules written in WAT, one broken rule at a time; and the
// `crossguard policy` commands end to end.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POLICY_EXPORTS } from '../../toolchain/src/policy-abi.js';
import { checkPolicy, loadWabt, PolicyCheckError, policyProblems } from '../../toolchain/src/policy-check.js';
import { policyBytes, ROOT } from './sim.js';

interface Parts {
  /** Replace the function for an ABI name (its whole `(func ...)` text). */
  funcs?: Record<string, string | null>;
  memory?: string;
  /** Imports (they must come first). */
  imports?: string;
  extra?: string;
}

/** A module that follows the ABI (every function returns zero), with parts replaced. */
function policyWat(parts: Parts = {}): string {
  const funcs = Object.entries(POLICY_EXPORTS).map(([name, f]) => {
    if (parts.funcs && name in parts.funcs) return parts.funcs[name] ?? '';
    const params = f.params.length ? `(param ${f.params.join(' ')})` : '';
    const result = f.result ? `(result ${f.result}) ${f.result}.const 0` : '';
    return `(func (export "${name}") ${params} ${result})`;
  });
  return `(module ${parts.imports ?? ''} ${parts.memory ?? '(memory (export "memory") 1 1)'} ${funcs.join('\n')} ${parts.extra ?? ''})`;
}

async function wasm(wat: string): Promise<Uint8Array> {
  const wabt = await loadWabt();
  const m = wabt.parseWat('t.wat', wat, { bulk_memory: true });
  try {
    return m.toBinary({}).buffer;
  } finally {
    m.destroy();
  }
}

async function problems(parts: Parts): Promise<string[]> {
  return (await policyProblems(await wasm(policyWat(parts)))).map((p) => `${p.rule}: ${p.message}`);
}

test('every built policy passes', async () => {
  for (const name of ['fair', 'pinned', 'rt', 'test_trap']) {
    assert.equal(await policyProblems(await policyBytes(name)), [], name);
  }
});

test('a minimal module passes; env.log, a data segment saying "f64", extra exports and a fixed table are fine', async () => {
  assert.equal(await problems({}), []);
  assert.equal(
    await problems({
      imports: '(import "env" "log" (func $log (param i32 i64)))',
      extra: `(data (i32.const 0) "f64 f32.add")
              (global (export "f32_count") i32 (i32.const 0)) (table 2 2 funcref)
              (func (export "helper") (call $log (i32.const 1) (i64.const 2)))`,
    }),
    [],
  );
});

test('a float anywhere is refused: code, locals, params, globals', async () => {
  const body = (code: string) => ({ funcs: { pick_next: `(func (export "pick_next") (param i32 i64) (result i32) ${code})` } });
  assert.equal(await problems(body('f64.const 1 f64.const 2 f64.add i32.trunc_f64_s')), [
    'integers: function pick_next uses f64.const; the ABI allows integer types only (i32, i64)',
  ]);
  assert.match((await problems(body('(local f32) i32.const 0')))[0]!, /^integers: function pick_next uses f32/);
  assert.match((await problems({ extra: '(func (param f64))' }))[0]!, /^integers: type \d+ uses f64/);
  assert.match((await problems({ extra: '(global (mut f32) (f32.const 0))' }))[0]!, /^integers: global uses f32/);
});

test('a start function is refused', async () => {
  assert.equal(await problems({ extra: '(func $s) (start $s)' }), [
    'start: has a start function (function 10); the ABI forbids one: initialise state in init',
  ]);
});

test('a missing export is refused, naming its ABI signature', async () => {
  assert.equal(await problems({ funcs: { on_tick: null } }), [
    'export: export on_tick is missing, the ABI says on_tick: (i32, i64) -> i32',
  ]);
});

test('a wrong signature is refused with both signatures, in the ABI\'s words', async () => {
  const bytes = await wasm(policyWat({ funcs: { pick_next: '(func (export "pick_next") (param i32 i64) (result i64) i64.const 0)' } }));
  try {
    await checkPolicy(bytes, 'build/policy/fair.wasm');
    assert.unreachable('checkPolicy accepted a wrong signature');
  } catch (e) {
    assert.instance(e, PolicyCheckError);
    assert.is((e as PolicyCheckError).name, 'PolicyCheckError');
    assert.is((e as PolicyCheckError).exitCode, 1);
    assert.is((e as Error).message, 'fair.wasm: export pick_next has signature (i32, i64) -> i64, the ABI says (i32, i64) -> i32');
  }
  assert.equal(await problems({ funcs: { vcpu_remove: '(func (export "vcpu_remove") (param i64))' } }), [
    'export: export vcpu_remove has signature (i64) -> void, the ABI says (i32) -> void',
  ]);
  assert.equal(await problems({ funcs: { init: '(global (export "init") i32 (i32.const 0))' } }), [
    'export: export init is a global, the ABI says a function (i32, i64) -> i32',
  ]);
});

test('imports other than env.log (i32, i64) -> void are refused', async () => {
  assert.equal(await problems({ imports: '(import "env" "abort" (func (param i32 i32 i32 i32)))' }), [
    'import: imports func env.abort, the ABI allows only the function env.log',
  ]);
  assert.equal(await problems({ imports: '(import "env" "log" (func (param i32)))' }), [
    'import: import env.log has signature (i32) -> void, the ABI says (i32, i64) -> void',
  ]);
  assert.equal(await problems({ imports: '(import "env" "g" (global i32))' }), [
    'import: imports global env.g, the ABI allows only the function env.log',
  ]);
});

test('memory: exactly one, initial == maximum, at most 16 pages', async () => {
  assert.equal(await problems({ memory: '(memory 1 2)' }), [
    'memory: the memory can grow (initial 1 pages, maximum 2), the ABI wants initial == maximum',
  ]);
  assert.equal(await problems({ memory: '(memory 1)' }), [
    'memory: the memory can grow (initial 1 pages, no maximum), the ABI wants initial == maximum',
  ]);
  assert.equal(await problems({ memory: '(memory 17 17)' }), ['memory: the memory has 17 pages, the ABI allows at most 16 (64 KiB each)']);
  assert.equal(await problems({ memory: '' }), ['memory: has no memory, the ABI wants exactly one']);
  assert.equal(await problems({ memory: '', imports: '(import "env" "memory" (memory 1 1))' }), [
    'import: imports memory env.memory, the ABI allows only the function env.log',
  ]);
});

test('tables that can grow are refused', async () => {
  assert.equal(await problems({ extra: '(table 1 funcref)' }), ['table: table 0 can grow (its maximum is not its initial size)']);
  assert.equal(
    await problems({ extra: '(table 1 1 funcref) (func (drop (table.grow (ref.null func) (i32.const 1))))' }),
    ['table: function 10 uses table.grow; the ABI forbids growing tables'],
  );
});

test('bytes that are not WebAssembly are refused', async () => {
  const p = await policyProblems(new TextEncoder().encode('not wasm'));
  assert.is(p.length, 1);
  assert.is(p[0]!.rule, 'valid');
});

const CLI = join(ROOT, 'build', 'js', 'crossguard.mjs');

test('crossguard policy build --out DIR writes and checks every policy; policy check accepts them', () => {
  const out = mkdtempSync(join(tmpdir(), 'cg-policy-'));
  try {
    const b = spawnSync('node', [CLI, 'policy', 'build', '--out', out], { encoding: 'utf8' });
    assert.is(b.status, 0, b.stderr);
    const wasm = readdirSync(out).filter((f) => f.endsWith('.wasm')).sort();
    assert.equal(wasm, ['fair.wasm', 'pinned.wasm', 'rt.wasm', 'test_trap.wasm']);
    const c = spawnSync('node', [CLI, 'policy', 'check', ...wasm.map((f) => join(out, f))], { encoding: 'utf8' });
    assert.is(c.status, 0, c.stderr);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('crossguard policy check FILE fails with status 1 and one line naming the file and the rule', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-policy-'));
  try {
    const f = join(dir, 'bad.wasm');
    writeFileSync(f, await wasm(policyWat({ extra: '(func $s) (start $s)' })));
    const c = spawnSync('node', [CLI, 'policy', 'check', f], { encoding: 'utf8' });
    assert.is(c.status, 1);
    assert.match(c.stderr, /^crossguard: bad\.wasm: has a start function/m);
    const m = spawnSync('node', [CLI, 'policy', 'check', join(dir, 'missing.wasm')], { encoding: 'utf8' });
    assert.is(m.status, 1);
    assert.match(m.stderr, /cannot read .*missing\.wasm: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
