/* <alloca.h> for wasm2c output built into the monitor (included
 * unconditionally; integer-only modules never call alloca). */
#ifndef WASM_RT_SHIM_ALLOCA_H
#define WASM_RT_SHIM_ALLOCA_H
#define alloca(n) __builtin_alloca(n)
#endif
