// crossguard policy check: does a .wasm file follow the scheduler policy
// ABI (firmware/include/abi/policy_abi.h)? wabt reads and validates the module
// and prints it as text; the rules are then checked on that text, which
// lists every type, import, function, memory, table, global, export and
// instruction in a fixed, line-per-item form:
//   exports   every ABI function, exported as a function with exactly the
//             ABI's signature (other exports, such as `memory`, are allowed)
//   imports   none, except the function env.log (i32, i64) -> void
//   memory    exactly one, defined here, initial == maximum <= 16 pages
//   start     no start function
//   integers  no f32/f64 (nor v128) anywhere: types, locals, globals, code
//   tables    none that can grow (no table.grow, maximum == initial)

import wabtInit from 'wabt';
import { basename } from 'node:path';
import { readFile } from 'node:fs/promises';
import { CrossguardError } from '../../qemu/errors.js';
import {
  formatSignature, POLICY_EXPORTS, POLICY_IMPORT_LOG, POLICY_MEMORY_PAGES_MAX,
  type AbiFunction,
} from './policy-abi.js';

export type PolicyRule = 'valid' | 'export' | 'import' | 'memory' | 'start' | 'integers' | 'table';

export interface PolicyProblem {
  rule: PolicyRule;
  message: string;
}

/** A module breaks the policy ABI. Lists every problem; the message starts with the file name. */
export class PolicyCheckError extends CrossguardError {
  override name = 'PolicyCheckError';
  readonly file: string;
  readonly problems: PolicyProblem[];

  constructor(file: string, problems: PolicyProblem[]) {
    super(
      `${file}: ${problems.map((p) => p.message).join('; ')}`,
      'the rules a policy module must follow are in firmware/policy/README.md ("The rules")',
    );
    this.file = file;
    this.problems = problems;
  }
}

type Wabt = Awaited<ReturnType<typeof wabtInit>>;
let wabtPromise: Promise<Wabt> | undefined;
/** wabt's WebAssembly build, loaded once. */
export function loadWabt(): Promise<Wabt> {
  return (wabtPromise ??= wabtInit());
}

/** Features the AssemblyScript compiler uses by default; anything else fails validation. */
const FEATURES = { sign_extension: true, mutable_globals: true, sat_float_to_int: true, bulk_memory: true, multi_value: true };

/** The module as wabt prints it (validated), or a 'valid' problem. */
async function toText(bytes: Uint8Array): Promise<string | PolicyProblem> {
  const wabt = await loadWabt();
  let mod;
  try {
    // A copy: wabt reads the whole underlying buffer of a pooled Buffer.
    mod = wabt.readWasm(new Uint8Array(bytes), { readDebugNames: false, ...FEATURES });
  } catch (e) {
    return { rule: 'valid', message: `not a WebAssembly module wabt can read (${oneLine(e)})` };
  }
  try {
    mod.validate();
    return mod.toText({ foldExprs: false, inlineExport: false });
  } catch (e) {
    return { rule: 'valid', message: `not a valid WebAssembly module (${oneLine(e)})` };
  } finally {
    mod.destroy();
  }
}

function oneLine(e: unknown): string {
  return String((e as Error)?.message ?? e).replace(/\s*\n\s*/g, ' ').trim();
}

/** `(param i32 i64) (result i32)` → the signature. */
function parseSig(text: string): { params: string[]; results: string[] } {
  const params: string[] = [];
  const results: string[] = [];
  for (const m of text.matchAll(/\((param|result)((?:\s+[a-z0-9]+)*)\s*\)/g)) {
    const list = m[2]!.trim().split(/\s+/).filter(Boolean);
    (m[1] === 'param' ? params : results).push(...list);
  }
  return { params, results };
}

const sigText = (s: { params: string[]; results: string[] }): string =>
  `(${s.params.join(', ')}) -> ${s.results.length === 0 ? 'void' : s.results.join(', ')}`;

const sameSig = (s: { params: string[]; results: string[] }, f: AbiFunction): boolean =>
  s.params.join(' ') === f.params.join(' ') && s.results.join(' ') === (f.result ?? '');

/** Strip string literals and comments, so names and data bytes are not read as types. */
function code(line: string): string {
  return line
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\(;.*?;\)/g, '')
    .replace(/;;.*$/, '');
}

/** Every rule broken by the module in `bytes` (empty: it is a policy). */
export async function policyProblems(bytes: Uint8Array): Promise<PolicyProblem[]> {
  const text = await toText(bytes);
  if (typeof text !== 'string') return [text];
  const problems: PolicyProblem[] = [];
  const types: { params: string[]; results: string[] }[] = [];
  const funcs: { params: string[]; results: string[] }[] = []; // index space: imports first
  const exports = new Map<string, { kind: string; index: number }>();
  const funcNames = new Map<number, string>();
  let memories = 0;
  let where = 'the module';
  let floatReported = false;

  // One item per line, two spaces in; drop the module's closing parenthesis
  // so that the last item reads like the others.
  for (const raw of text.trimEnd().replace(/\)$/, '').split('\n')) {
    const line = code(raw);
    let m: RegExpMatchArray | null;
    if ((m = raw.match(/^ {2}\(type \(;(\d+);\) \(func(.*)\)\)$/))) {
      types[Number(m[1])] = parseSig(m[2]!);
      where = `type ${m[1]}`;
    } else if ((m = raw.match(/^ {2}\(import "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)" \((\w+)(.*)\)\)$/))) {
      const [, mod, name, kind, rest] = m;
      where = `import ${mod}.${name}`;
      let sig = { params: [] as string[], results: [] as string[] };
      if (kind === 'func') {
        const t = rest!.match(/\(type (\d+)\)/);
        sig = t ? types[Number(t[1])] ?? sig : parseSig(rest!);
        funcs.push(sig);
      }
      if (kind === 'memory') memories++;
      if (mod !== POLICY_IMPORT_LOG.module || name !== POLICY_IMPORT_LOG.name || kind !== 'func') {
        problems.push({ rule: 'import', message: `imports ${kind} ${mod}.${name}, the ABI allows only the function env.log` });
      } else if (!sameSig(sig, POLICY_IMPORT_LOG.fn)) {
        problems.push({
          rule: 'import',
          message: `import env.log has signature ${sigText(sig)}, the ABI says ${formatSignature(POLICY_IMPORT_LOG.fn)}`,
        });
      }
    } else if ((m = raw.match(/^ {2}\(func \(;(\d+);\) \(type (\d+)\)/))) {
      funcs[Number(m[1])] = types[Number(m[2])] ?? parseSig(raw);
      where = `function ${m[1]}`;
    } else if ((m = raw.match(/^ {2}\(memory \(;\d+;\)(.*)\)$/))) {
      memories++;
      where = 'the memory';
      const limits = m[1]!.trim().split(/\s+/);
      if (limits[0] === 'i64') {
        problems.push({ rule: 'memory', message: 'the memory is 64-bit, the ABI wants a 32-bit memory' });
        limits.shift();
      }
      const [init, max] = limits.map(Number);
      if (max === undefined || Number.isNaN(max)) {
        problems.push({ rule: 'memory', message: `the memory can grow (initial ${init} pages, no maximum), the ABI wants initial == maximum` });
      } else if (init !== max) {
        problems.push({ rule: 'memory', message: `the memory can grow (initial ${init} pages, maximum ${max}), the ABI wants initial == maximum` });
      } else if (max > POLICY_MEMORY_PAGES_MAX) {
        problems.push({ rule: 'memory', message: `the memory has ${max} pages, the ABI allows at most ${POLICY_MEMORY_PAGES_MAX} (64 KiB each)` });
      }
    } else if ((m = raw.match(/^ {2}\(table \(;(\d+);\)(.*)\)$/))) {
      where = `table ${m[1]}`;
      const limits = m[2]!.trim().split(/\s+/).filter((t) => /^\d+$/.test(t)).map(Number);
      if (limits.length < 2 || limits[0] !== limits[1]) {
        problems.push({ rule: 'table', message: `table ${m[1]} can grow (its maximum is not its initial size)` });
      }
    } else if ((m = raw.match(/^ {2}\(export "((?:[^"\\]|\\.)*)" \((\w+) (\d+)\)\)$/))) {
      exports.set(m[1]!, { kind: m[2]!, index: Number(m[3]) });
      if (m[2] === 'func') funcNames.set(Number(m[3]), m[1]!);
      where = `export ${m[1]}`;
    } else if ((m = raw.match(/^ {2}\(start (\d+)\)$/))) {
      problems.push({ rule: 'start', message: `has a start function (function ${m[1]}); the ABI forbids one: initialise state in init` });
    } else if (/^ {2}\(/.test(raw)) {
      where = raw.trim().split(/\s/)[0]!.slice(1); // global, data, elem...
    }
    if (/\btable\.grow\b/.test(line)) {
      problems.push({ rule: 'table', message: `${where} uses table.grow; the ABI forbids growing tables` });
    }
    const f = !floatReported && line.match(/\b(f32|f64|v128)(\.[a-z0-9_]+)?\b/);
    if (f) {
      // One report is enough: the first place names what to fix.
      floatReported = true;
      problems.push({ rule: 'integers', message: `${where} uses ${f[0]}; the ABI allows integer types only (i32, i64)` });
    }
  }

  if (memories === 0) problems.push({ rule: 'memory', message: 'has no memory, the ABI wants exactly one' });
  if (memories > 1) problems.push({ rule: 'memory', message: `has ${memories} memories, the ABI wants exactly one` });

  for (const [name, abi] of Object.entries(POLICY_EXPORTS)) {
    const e = exports.get(name);
    if (!e) {
      problems.push({ rule: 'export', message: `export ${name} is missing, the ABI says ${name}: ${formatSignature(abi)}` });
      continue;
    }
    if (e.kind !== 'func') {
      problems.push({ rule: 'export', message: `export ${name} is a ${e.kind}, the ABI says a function ${formatSignature(abi)}` });
      continue;
    }
    const sig = funcs[e.index];
    if (!sig || !sameSig(sig, abi)) {
      problems.push({
        rule: 'export',
        message: `export ${name} has signature ${sig ? sigText(sig) : 'unknown'}, the ABI says ${formatSignature(abi)}`,
      });
    }
  }
  // Rename "function N" to the export's name where there is one, for readers.
  for (const p of problems) {
    p.message = p.message.replace(/^function (\d+) /, (s, n) => (funcNames.has(Number(n)) ? `function ${funcNames.get(Number(n))} ` : s));
  }
  return problems;
}

/** Throws PolicyCheckError naming `file` unless `bytes` is a policy module. */
export async function checkPolicy(bytes: Uint8Array, file: string): Promise<void> {
  const problems = await policyProblems(bytes);
  if (problems.length > 0) throw new PolicyCheckError(basename(file), problems);
}

/** Reads and checks one .wasm file. */
export async function checkPolicyFile(path: string): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new CrossguardError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? oneLine(e)} (build it with: crossguard policy build)`);
  }
  await checkPolicy(bytes, path);
}
