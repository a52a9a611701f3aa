/* <assert.h> for wasm2c output built into the monitor: a failed assert (the
 * generated instantiate asserts wasm_rt_is_initialized()) traps with
 * WASM_RT_TRAP_RUNTIME instead of printing and aborting. Never compiled out:
 * NDEBUG is ignored. */
#ifndef WASM_RT_SHIM_ASSERT_H
#define WASM_RT_SHIM_ASSERT_H
void wasm_rt_assert_failed(const char *expr) __attribute__((noreturn));
#define assert(e) ((e) ? (void)0 : wasm_rt_assert_failed(#e))
#define static_assert _Static_assert
#endif
