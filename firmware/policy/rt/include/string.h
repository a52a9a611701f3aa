/* <string.h> for wasm2c output built into the monitor: the monitor's own
 * routines (firmware/lib/string.c; the C library's on the host). */
#ifndef WASM_RT_SHIM_STRING_H
#define WASM_RT_SHIM_STRING_H
#include <cg/string.h>
#endif
