// The scheduler policy ABI as data: the exports every policy module must
// have, with their WebAssembly signatures, and the limits on memory and
// imports. Mirrors firmware/include/abi/policy_abi.h (the contract);
// test/policy/abi.test.ts parses the header and fails if the two differ.

export type ValType = 'i32' | 'i64';

export interface AbiFunction {
  params: ValType[];
  /** null: no result (void). */
  result: ValType | null;
}

/** Required exports, in the header's order. */
export const POLICY_EXPORTS: Readonly<Record<string, AbiFunction>> = {
  init: { params: ['i32', 'i64'], result: 'i32' },
  vcpu_add: { params: ['i32', 'i32', 'i32', 'i32', 'i32'], result: 'i32' },
  vcpu_remove: { params: ['i32'], result: null },
  vcpu_wake: { params: ['i32', 'i64'], result: 'i32' },
  vcpu_block: { params: ['i32', 'i64'], result: null },
  vcpu_ran: { params: ['i32', 'i32', 'i64', 'i64'], result: null },
  pick_next: { params: ['i32', 'i64'], result: 'i32' },
  pick_slice: { params: ['i32'], result: 'i64' },
  on_tick: { params: ['i32', 'i64'], result: 'i32' },
  set_param: { params: ['i32', 'i32', 'i64'], result: 'i32' },
};

/** The one import a module may have: env.log(code: i32, value: i64): void. */
export const POLICY_IMPORT_LOG = { module: 'env', name: 'log', fn: { params: ['i32', 'i64'], result: null } as AbiFunction };

/** POLICY_MEMORY_PAGES_MAX: at most 16 pages of 64 KiB. */
export const POLICY_MEMORY_PAGES_MAX = 16;

/** The numbers of policy_abi.h that tests and the simulator use. */
export const POLICY_EINVAL = -22;
export const POLICY_ENOSPC = -28;
export const POLICY_EBUSY = -16;
export const POLICY_PARAM_WEIGHT = 1;
export const POLICY_PARAM_CAP = 2;
export const POLICY_PARAM_RT_BUDGET = 3;
export const POLICY_PARAM_RT_PERIOD = 4;
export const POLICY_MAX_VCPUS = 256;
export const POLICY_MAX_CPUS = 64;

/** vcpu_add flags asking for CPU `cpu` only. */
export const policyFlagCpu = (cpu: number): number => (cpu + 1) & 0xff;

/** `(i32, i64) -> i32`, the form error messages use. */
export function formatSignature(f: AbiFunction): string {
  return `(${f.params.join(', ')}) -> ${f.result ?? 'void'}`;
}
