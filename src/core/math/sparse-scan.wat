;; The sparse-row scan of vectors.ts (scanSpace over half-float CSR rows) in WebAssembly: out[i] = Σ_k
;; table[values[k]] · q[cols[k]] over row i's non-zeros. It adds in float64, in the same order as the JavaScript
;; loop, and rounds each row to float32 once, so both give the same bits. Compiled by `npm run build:wasm`
;; into sparse-scan.wasm.ts; the memory (rows, table, query and output) is the importer's.
(module
  (import "env" "memory" (memory 1))
  ;; n rows; byte offsets of: row offsets (uint32, n + 1), columns (uint16), half-float codes (uint16), the
  ;; 65,536-entry float32 table, the query (float32) and the output (float32, n).
  (func (export "scan") (param $n i32) (param $off i32) (param $col i32) (param $val i32) (param $tab i32) (param $q i32) (param $out i32)
    (local $i i32) (local $k i32) (local $end i32) (local $s f64)
    (local.set $k (i32.load (local.get $off)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $end (i32.load (i32.add (local.get $off) (i32.shl (i32.add (local.get $i) (i32.const 1)) (i32.const 2)))))
        (local.set $s (f64.const 0))
        (block $row
          (loop $nonzeros
            (br_if $row (i32.ge_u (local.get $k) (local.get $end)))
            (local.set $s
              (f64.add (local.get $s)
                (f64.mul
                  (f64.promote_f32 (f32.load (i32.add (local.get $tab)
                    (i32.shl (i32.load16_u (i32.add (local.get $val) (i32.shl (local.get $k) (i32.const 1)))) (i32.const 2)))))
                  (f64.promote_f32 (f32.load (i32.add (local.get $q)
                    (i32.shl (i32.load16_u (i32.add (local.get $col) (i32.shl (local.get $k) (i32.const 1)))) (i32.const 2))))))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $nonzeros)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (f32.demote_f64 (local.get $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))
)
