// The small-depth product C (m×n) = scale·([C +] A·B) for k ≤ KYMO_SMALL_DEPTH_MAX with A and B
// row-major and not transposed, with AVX2/FMA intrinsics: the output layer's input gradient
// δ·W (64×10 · 10×256 in the seed MLP).
//
// Layout. Tiles of 4 rows × 24 columns: twelve accumulators, row r's columns j…j+23 in three
// vectors. Per depth p: three loads of B's row p (read in place, no packing: with k this small
// a packed copy would be read as often as it was written), four 32-bit broadcast loads of
// A[i+r, p], twelve FMAs. Narrower column tails use 16-, 8- and masked tiles of the same shape,
// shorter row tails the same code with rows past the end reading row 0 and never stored.
// Against the Swift 6×16 blocked kernel this saves the packing of B and the per-tile setup of
// a depth loop that is only ten long.
//
// Determinism. Each accumulator lane is one element's chain, advanced by exactly one
// `_mm256_fmadd_ps` per depth in ascending p, from C (accumulate) or +0, multiplied once by
// `scale` (when ≠ 1) before the store: the contract of KymoEngine's GEMM. Only intrinsics do
// arithmetic here (no C float operators that a compiler could contract or reorder).

#include "CKernels.h"

#if defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>

bool kymo_small_depth_available(void) { return true; }

/// Rows 0…height−1 (height ≤ 4) and `vectors` (1…3) vectors of columns, the last one limited
/// to the lanes in `last` (all lanes for full tiles).
static inline __attribute__((always_inline)) void small_tile(
    int height, int vectors, __m256i last, bool masked, ptrdiff_t k,
    const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, bool accumulate, float scale) {
    const float *a0 = a, *a1 = a + (height > 1 ? 1 : 0) * lda;
    const float *a2 = a + (height > 2 ? 2 : 0) * lda, *a3 = a + (height > 3 ? 3 : 0) * lda;
    float *c0 = c, *c1 = c + 1 * ldc, *c2 = c + 2 * ldc, *c3 = c + 3 * ldc;
    __m256 z = _mm256_setzero_ps();
    __m256 s00 = z, s01 = z, s02 = z, s10 = z, s11 = z, s12 = z;
    __m256 s20 = z, s21 = z, s22 = z, s30 = z, s31 = z, s32 = z;
    // The last of the `vectors` column vectors is masked when the tile is.
#define LOAD_C(row, offset)                                                               \
    (masked && (offset) == 8 * (vectors - 1) ? _mm256_maskload_ps((row) + (offset), last)  \
                                             : _mm256_loadu_ps((row) + (offset)))
    if (accumulate) {
        s00 = LOAD_C(c0, 0);
        if (vectors > 1) s01 = LOAD_C(c0, 8);
        if (vectors > 2) s02 = LOAD_C(c0, 16);
        if (height > 1) {
            s10 = LOAD_C(c1, 0);
            if (vectors > 1) s11 = LOAD_C(c1, 8);
            if (vectors > 2) s12 = LOAD_C(c1, 16);
        }
        if (height > 2) {
            s20 = LOAD_C(c2, 0);
            if (vectors > 1) s21 = LOAD_C(c2, 8);
            if (vectors > 2) s22 = LOAD_C(c2, 16);
        }
        if (height > 3) {
            s30 = LOAD_C(c3, 0);
            if (vectors > 1) s31 = LOAD_C(c3, 8);
            if (vectors > 2) s32 = LOAD_C(c3, 16);
        }
    }
#undef LOAD_C
    for (ptrdiff_t p = 0; p < k; p++) {
        const float *bp = b + p * ldb;
        __m256 w0 = vectors == 1 && masked ? _mm256_maskload_ps(bp, last) : _mm256_loadu_ps(bp);
        __m256 w1 = z, w2 = z;
        if (vectors > 1) w1 = vectors == 2 && masked ? _mm256_maskload_ps(bp + 8, last) : _mm256_loadu_ps(bp + 8);
        if (vectors > 2) w2 = masked ? _mm256_maskload_ps(bp + 16, last) : _mm256_loadu_ps(bp + 16);
        __m256 x = _mm256_broadcast_ss(a0 + p);
        s00 = _mm256_fmadd_ps(x, w0, s00);
        if (vectors > 1) s01 = _mm256_fmadd_ps(x, w1, s01);
        if (vectors > 2) s02 = _mm256_fmadd_ps(x, w2, s02);
        x = _mm256_broadcast_ss(a1 + p);
        s10 = _mm256_fmadd_ps(x, w0, s10);
        if (vectors > 1) s11 = _mm256_fmadd_ps(x, w1, s11);
        if (vectors > 2) s12 = _mm256_fmadd_ps(x, w2, s12);
        x = _mm256_broadcast_ss(a2 + p);
        s20 = _mm256_fmadd_ps(x, w0, s20);
        if (vectors > 1) s21 = _mm256_fmadd_ps(x, w1, s21);
        if (vectors > 2) s22 = _mm256_fmadd_ps(x, w2, s22);
        x = _mm256_broadcast_ss(a3 + p);
        s30 = _mm256_fmadd_ps(x, w0, s30);
        if (vectors > 1) s31 = _mm256_fmadd_ps(x, w1, s31);
        if (vectors > 2) s32 = _mm256_fmadd_ps(x, w2, s32);
    }
    if (scale != 1) {
        const __m256 f = _mm256_set1_ps(scale);
        s00 = _mm256_mul_ps(s00, f); s01 = _mm256_mul_ps(s01, f); s02 = _mm256_mul_ps(s02, f);
        s10 = _mm256_mul_ps(s10, f); s11 = _mm256_mul_ps(s11, f); s12 = _mm256_mul_ps(s12, f);
        s20 = _mm256_mul_ps(s20, f); s21 = _mm256_mul_ps(s21, f); s22 = _mm256_mul_ps(s22, f);
        s30 = _mm256_mul_ps(s30, f); s31 = _mm256_mul_ps(s31, f); s32 = _mm256_mul_ps(s32, f);
    }
#define STORE_C(row, offset, v)                                                             \
    do {                                                                                    \
        if (masked && (offset) == 8 * (vectors - 1)) _mm256_maskstore_ps((row) + (offset), last, (v)); \
        else _mm256_storeu_ps((row) + (offset), (v));                                       \
    } while (0)
    STORE_C(c0, 0, s00);
    if (vectors > 1) STORE_C(c0, 8, s01);
    if (vectors > 2) STORE_C(c0, 16, s02);
    if (height > 1) {
        STORE_C(c1, 0, s10);
        if (vectors > 1) STORE_C(c1, 8, s11);
        if (vectors > 2) STORE_C(c1, 16, s12);
    }
    if (height > 2) {
        STORE_C(c2, 0, s20);
        if (vectors > 1) STORE_C(c2, 8, s21);
        if (vectors > 2) STORE_C(c2, 16, s22);
    }
    if (height > 3) {
        STORE_C(c3, 0, s30);
        if (vectors > 1) STORE_C(c3, 8, s31);
        if (vectors > 2) STORE_C(c3, 16, s32);
    }
#undef STORE_C
}

/// One strip of up to four rows over all n columns.
static inline __attribute__((always_inline)) void small_rows(
    int height, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
    float *c, ptrdiff_t ldc, bool accumulate, float scale) {
    const __m256i all = _mm256_set1_epi32(-1);
    ptrdiff_t j = 0;
    for (; j + 24 <= n; j += 24) {
        small_tile(height, 3, all, false, k, a, lda, b + j, ldb, c + j, ldc, accumulate, scale);
    }
    ptrdiff_t rest = n - j;
    if (rest == 0) return;
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i last = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(rest % 8)), lanes);
    bool masked = rest % 8 != 0;
    int vectors = (int)((rest + 7) / 8);
    if (vectors == 3) {
        small_tile(height, 3, last, true, k, a, lda, b + j, ldb, c + j, ldc, accumulate, scale);
    } else if (vectors == 2) {
        if (masked) small_tile(height, 2, last, true, k, a, lda, b + j, ldb, c + j, ldc, accumulate, scale);
        else small_tile(height, 2, all, false, k, a, lda, b + j, ldb, c + j, ldc, accumulate, scale);
    } else {
        if (masked) small_tile(height, 1, last, true, k, a, lda, b + j, ldb, c + j, ldc, accumulate, scale);
        else small_tile(height, 1, all, false, k, a, lda, b + j, ldb, c + j, ldc, accumulate, scale);
    }
}

void kymo_small_depth(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                      const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, bool accumulate, float scale) {
    if (m <= 0 || n <= 0 || k <= 0 || k > KYMO_SMALL_DEPTH_MAX) __builtin_trap();
    ptrdiff_t i = 0;
    for (; i + 4 <= m; i += 4) {
        small_rows(4, n, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc, accumulate, scale);
    }
    switch (m - i) {
    case 3: small_rows(3, n, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc, accumulate, scale); break;
    case 2: small_rows(2, n, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc, accumulate, scale); break;
    case 1: small_rows(1, n, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc, accumulate, scale); break;
    default: break;
    }
}

#else

bool kymo_small_depth_available(void) { return false; }

void kymo_small_depth(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *a, ptrdiff_t lda,
                      const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc, bool accumulate, float scale) {
    (void)m; (void)n; (void)k; (void)a; (void)lda; (void)b; (void)ldb; (void)c; (void)ldc;
    (void)accumulate; (void)scale;
    __builtin_trap();
}

#endif
