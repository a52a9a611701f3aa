/* <stdlib.h> for wasm2c output built into the monitor: only abort(), which
 * traps (WASM_RT_TRAP_RUNTIME) back to the guarded caller. No allocation. */
#ifndef WASM_RT_SHIM_STDLIB_H
#define WASM_RT_SHIM_STDLIB_H
#include <stddef.h>
void wasm_rt_abort(void) __attribute__((noreturn));
#define abort() wasm_rt_abort()
#endif
