# Post-process wasm2c 1.0.32 output to meter it (see README.md):
#   sed -i -f firmware/policy/rt/wasm2c-meter.sed module.c
# Function entry: wasm2c emits "  FUNC_PROLOGUE;" on a line of its own at
# the top of every function body (after the locals' declarations); the
# function's loop counter is declared there. Loop back-edge: a branch to a
# loop label is always "goto w2c_L<n>;" (blocks are w2c_B<n>, the function
# end w2c_Bfunc), including br_table cases. Function exit: every return
# goes through the one "  FUNC_EPILOGUE;" line at w2c_Bfunc. The macros
# are defined in wasm-rt.h.
s/^\([ 	]*\)FUNC_PROLOGUE;$/\1FUNC_PROLOGUE; uint32_t wasm_rt_meter_n = 0; WASM_RT_METER_CALL();/
s/goto \(w2c_L[0-9][0-9]*\);/{ WASM_RT_METER_LOOP(wasm_rt_meter_n); goto \1; }/g
s/^\([ 	]*\)FUNC_EPILOGUE;$/\1WASM_RT_METER_RETURN(wasm_rt_meter_n); FUNC_EPILOGUE;/
