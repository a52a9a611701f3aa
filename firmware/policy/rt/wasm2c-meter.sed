# Post-process wasm2c 1.0.32 output to meter it (see README.md):
#   sed -i -f firmware/policy/rt/wasm2c-meter.sed module.c
# Function entry: wasm2c emits "  FUNC_PROLOGUE;" on a line of its own at
# the top of every function body. Loop back-edge: a branch to a loop label is
# always "goto w2c_L<n>;" (blocks are w2c_B<n>, the function end w2c_Bfunc),
# including br_table cases. Both macros are defined in wasm-rt.h.
s/^\([ 	]*\)FUNC_PROLOGUE;$/\1FUNC_PROLOGUE; WASM_RT_METER_CALL();/
s/goto \(w2c_L[0-9][0-9]*\);/{ WASM_RT_METER_LOOP(); goto \1; }/g
