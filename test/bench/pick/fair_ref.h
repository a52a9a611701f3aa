/* fair_ref: the fair policy (firmware/policy/fair.ts) written in C, for
 * measurement only (see fair_ref.c). Same functions as the policy ABI
 * (firmware/include/abi/policy_abi.h), same arguments and results, with signed
 * C types where the wasm2c exports take u32/u64. One global instance, like
 * the module: fair_ref_init() resets it. */
#ifndef FAIR_REF_H
#define FAIR_REF_H

#include <cg/types.h>

s32 fair_ref_init(s32 ncpus, s64 tsc_hz);
s32 fair_ref_vcpu_add(s32 id, s32 vm, s32 weight, s32 cap, s32 flags);
void fair_ref_vcpu_remove(s32 id);
s32 fair_ref_vcpu_wake(s32 id, s64 now);
void fair_ref_vcpu_block(s32 id, s64 now);
void fair_ref_vcpu_ran(s32 id, s32 cpu, s64 ran, s64 now);
s32 fair_ref_pick_next(s32 cpu, s64 now);
s64 fair_ref_pick_slice(s32 cpu);
s32 fair_ref_on_tick(s32 cpu, s64 now);
s32 fair_ref_set_param(s32 id, s32 key, s64 value);

#endif
