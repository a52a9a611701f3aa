/* <math.h> for wasm2c output built into the monitor. wasm2c 1.0.32 always
 * emits float helpers (wasm_floor, wasm_sqrtf, FMIN...) whether or not the
 * module uses floats; for an integer-only module they are unused static
 * functions the compiler drops, so declarations are enough here and no
 * float code is emitted. A module that really uses f32/f64 fails to build
 * under -mgeneral-regs-only (wanted: the policy ABI is integer-only), and
 * would fail to link (these functions are not defined anywhere). */
#ifndef WASM_RT_SHIM_MATH_H
#define WASM_RT_SHIM_MATH_H

#define NAN (__builtin_nanf(""))
#define INFINITY (__builtin_inff())
#define isnan(x) __builtin_isnan(x)
#define isinf(x) __builtin_isinf_sign(x)
#define signbit(x) __builtin_signbit(x)

double floor(double);
float floorf(float);
double ceil(double);
float ceilf(float);
double trunc(double);
float truncf(float);
double nearbyint(double);
float nearbyintf(float);
double fabs(double);
float fabsf(float);
double sqrt(double);
float sqrtf(float);
double copysign(double, double);
float copysignf(float, float);

#endif
