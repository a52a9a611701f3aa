;; Host test module: a memory without a maximum (the runtime clamps it to
;; WASM_RT_MAX_PAGES = 16) and no imports, so instantiate takes no env.
(module
  (memory 1)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
)
