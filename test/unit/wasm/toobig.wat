;; Host test module: 17 pages is above the runtime's 16-page limit, so
;; instantiate must trap OOM instead of allocating.
(module
  (memory 17 17)
  (func (export "nothing"))
)
