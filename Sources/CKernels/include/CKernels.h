// CKernels: fixed-shape small GEMM micro-kernels written with AVX2/FMA intrinsics, for the shapes
// where Swift cannot say which shuffles and loads to emit. KymoEngine calls them only when
// `kymo_ten_columns_available()` / `kymo_small_depth_available()` say this build has them (x86-64 built with -march=haswell or
// newer, i.e. KYMO_TARGET_CPU set); otherwise it keeps its pure-Swift kernels. Both give the
// same bits: the determinism contract of KymoEngine's GEMM (one fused multiply-add chain per
// output element, in ascending depth, from C or 0, scaled once on the store).

#ifndef KYMO_CKERNELS_H
#define KYMO_CKERNELS_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Whether `kymo_ten_columns` is compiled in (AVX2 and FMA enabled for this target). When it
/// returns false, calling `kymo_ten_columns` is a programming error (it traps).
bool kymo_ten_columns_available(void);

/// C (m×10) = scale·([C +] op(A)·op(B)), row-major, C's element (i, j) at c[i·ldc + j].
/// op(A) (m×k) is A (a[i·lda + p]) or, with `transpose_a`, Aᵀ (a[p·lda + i]); op(B) (k×10) is B
/// (b[p·ldb + j]) or, with `transpose_b`, Bᵀ (b[j·ldb + p]). Every element is the chain
/// acc = accumulate ? C[i,j] : 0; acc = fma(op(A)[i,p], op(B)[p,j], acc) for p = 0…k−1;
/// C[i,j] = scale == 1 ? acc : acc·scale (one rounding). Requires k ≥ 1.
/// Complexity: O(10·m·k) time; 64·k bytes of scratch (op(B) packed 16 floats per depth), allocated per call.
void kymo_ten_columns(ptrdiff_t m, ptrdiff_t k,
                      const float *a, ptrdiff_t lda, bool transpose_a,
                      const float *b, ptrdiff_t ldb, bool transpose_b,
                      float *c, ptrdiff_t ldc, bool accumulate, float scale);

/// The deepest product `kymo_small_depth` takes.
#define KYMO_SMALL_DEPTH_MAX 16

/// Whether `kymo_small_depth` is compiled in (AVX2 and FMA enabled for this target).
bool kymo_small_depth_available(void);

/// C (m×n) = scale·([C +] A·B) for a small depth k (1 ≤ k ≤ KYMO_SMALL_DEPTH_MAX), all row-major
/// and not transposed: A (m×k) at a[i·lda + p], B (k×n) at b[p·ldb + j], C at c[i·ldc + j].
/// Every element is the chain acc = accumulate ? C[i,j] : 0; acc = fma(A[i,p], B[p,j], acc) for
/// p = 0…k−1; C[i,j] = scale == 1 ? acc : acc·scale. Traps outside those bounds or when not
/// available.
/// Complexity: O(m·n·k) time; no scratch.
void kymo_small_depth(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                      const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, bool accumulate, float scale);

#ifdef __cplusplus
}
#endif

#endif
