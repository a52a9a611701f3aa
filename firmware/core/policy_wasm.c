/* WebAssembly scheduler policies, compiled to C by wasm2c and run by the
 * monitor's own runtime (firmware/policy/rt). */
#include "sched_ops.h"

const struct sched_ops *const policy_wasm_list[] = { NULL };
const u32 policy_wasm_count = 0;
