// The ten-column product C (m×10) = scale·([C +] op(A)·op(B)) with AVX2/FMA intrinsics: the
// output layer of a 10-class model (64×10×256 in the seed MLP's forward pass).
//
// Layout. Eight rows of C at a time, held transposed: accumulator j is the vector
// (C[i0,j], C[i0+1,j], …, C[i0+7,j]), ten of them. Per depth p that needs the column
// x_p = (op(A)[i0,p], …, op(A)[i0+7,p]) once and ten broadcasts op(B)[p,j], read from a copy of
// op(B) packed 16 floats per depth; ten FMAs advance all 80 elements, no lane is wasted, and
// the broadcasts are plain loads (no shuffle). When op(A) is A itself (row-major, the layer's
// forward product), the columns come from an in-lane 4×4 transpose: four 16-byte loads per row
// pair (rows r and r+4 in the two halves) and eight in-lane shuffles give four depths' columns,
// so three shuffle-port operations per depth beside the ten FMAs. When op(A) is Aᵀ the column is
// one contiguous load. C is loaded and stored through 8×8 register transposes, once per tile.
//
// Determinism. Each accumulator lane is one element's chain, advanced by exactly one
// `_mm256_fmadd_ps` per depth in ascending p, starting from C (accumulate) or +0, and multiplied
// once by `scale` (when ≠ 1) before the store: the contract of KymoEngine's GEMM, bit for bit
// the chain of `GEMM.reference` and of the Swift kernels. All arithmetic here is written as
// intrinsics, never as C float operators, so that no -ffp-contract setting, optimization level
// (debug builds compile this at -O0) or compiler can fuse, reorder or split it; the only other
// float operations are copies (loads, stores, shuffles, transposes), which are exact.

#include "CKernels.h"

#include <stdlib.h>

#if defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>

bool kymo_ten_columns_available(void) { return true; }

/// In-register 8×8 transpose: rows in, columns out (exact: shuffles only).
static inline __attribute__((always_inline)) void transpose8x8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20); r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20); r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31); r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31); r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/// op(B) (k×10) as 16 floats per depth p: op(B)[p, 0…9], then six unused floats.
static void pack_b(ptrdiff_t k, const float *b, ptrdiff_t ldb, bool transpose_b, float *d) {
    if (!transpose_b) {
        for (ptrdiff_t p = 0; p < k; p++) {
            _mm256_storeu_ps(d + p * 16, _mm256_loadu_ps(b + p * ldb));
            d[p * 16 + 8] = b[p * ldb + 8];
            d[p * 16 + 9] = b[p * ldb + 9];
        }
        return;
    }
    // op(B)[p, j] = b[j·ldb + p]: eight depths at a time, an 8×8 transpose for columns 0…7 and
    // an interleave of rows 8 and 9 stored as one pair per depth.
    ptrdiff_t p = 0;
    for (; p + 8 <= k; p += 8) {
        __m256 r[8];
        for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(b + j * ldb + p);
        transpose8x8(r);
        for (int q = 0; q < 8; q++) _mm256_storeu_ps(d + (p + q) * 16, r[q]);
        __m256 x = _mm256_loadu_ps(b + 8 * ldb + p), y = _mm256_loadu_ps(b + 9 * ldb + p);
        __m256 lo = _mm256_unpacklo_ps(x, y);  // x0 y0 x1 y1 | x4 y4 x5 y5
        __m256 hi = _mm256_unpackhi_ps(x, y);  // x2 y2 x3 y3 | x6 y6 x7 y7
        __m128 l0 = _mm256_castps256_ps128(lo), l1 = _mm256_extractf128_ps(lo, 1);
        __m128 h0 = _mm256_castps256_ps128(hi), h1 = _mm256_extractf128_ps(hi, 1);
        _mm_storel_pi((__m64 *)(d + (p + 0) * 16 + 8), l0);
        _mm_storeh_pi((__m64 *)(d + (p + 1) * 16 + 8), l0);
        _mm_storel_pi((__m64 *)(d + (p + 2) * 16 + 8), h0);
        _mm_storeh_pi((__m64 *)(d + (p + 3) * 16 + 8), h0);
        _mm_storel_pi((__m64 *)(d + (p + 4) * 16 + 8), l1);
        _mm_storeh_pi((__m64 *)(d + (p + 5) * 16 + 8), l1);
        _mm_storel_pi((__m64 *)(d + (p + 6) * 16 + 8), h1);
        _mm_storeh_pi((__m64 *)(d + (p + 7) * 16 + 8), h1);
    }
    for (; p < k; p++) {
        for (int j = 0; j < 10; j++) d[p * 16 + j] = b[j * ldb + p];
    }
}

/// One depth: acc[j] = fma(x, op(B)[p, j], acc[j]) for the ten columns, bp = packed row p.
#define TEN_FMAS(x, bp)                                                                  \
    do {                                                                                 \
        acc0 = _mm256_fmadd_ps((x), _mm256_broadcast_ss((bp) + 0), acc0);                \
        acc1 = _mm256_fmadd_ps((x), _mm256_broadcast_ss((bp) + 1), acc1);                \
        acc2 = _mm256_fmadd_ps((x), _mm256_broadcast_ss((bp) + 2), acc2);                \
        acc3 = _mm256_fmadd_ps((x), _mm256_broadcast_ss((bp) + 3), acc3);                \
        acc4 = _mm256_fmadd_ps((x), _mm256_broadcast_ss((bp) + 4), acc4);                \
        acc5 = _mm256_fmadd_ps((x), _mm256_broadcast_ss((bp) + 5), acc5);                \
        acc6 = _mm256_fmadd_ps((x), _mm256_broadcast_ss((bp) + 6), acc6);                \
        acc7 = _mm256_fmadd_ps((x), _mm256_broadcast_ss((bp) + 7), acc7);                \
        acc8 = _mm256_fmadd_ps((x), _mm256_broadcast_ss((bp) + 8), acc8);                \
        acc9 = _mm256_fmadd_ps((x), _mm256_broadcast_ss((bp) + 9), acc9);                \
    } while (0)

/// Rows 0…height−1 (height ≤ 8) of C, starting at `a` (op(A)'s row 0 of the tile) and `c`.
/// Rows at or past `height` compute on row 0's values (or zeros) and are never stored.
static inline __attribute__((always_inline)) void tile(
    int height, ptrdiff_t k, const float *a, ptrdiff_t lda, bool transpose_a,
    const float *pack, float *c, ptrdiff_t ldc, bool accumulate, float scale) {
    // C's tile, row-major with stride 16, when it is not read or written in place.
    float buffer[8 * 16] __attribute__((aligned(32)));
    __m256 acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7, acc8, acc9;
    if (accumulate) {
        const float *src = c;
        ptrdiff_t ld = ldc;
        if (height < 8) {
            for (int r = 0; r < 8; r++) {
                for (int j = 0; j < 16; j++) buffer[r * 16 + j] = r < height && j < 10 ? c[r * ldc + j] : 0;
            }
            src = buffer;
            ld = 16;
        }
        __m256 r[8];
        for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * ld);
        transpose8x8(r);
        acc0 = r[0]; acc1 = r[1]; acc2 = r[2]; acc3 = r[3];
        acc4 = r[4]; acc5 = r[5]; acc6 = r[6]; acc7 = r[7];
        acc8 = _mm256_set_ps(src[7 * ld + 8], src[6 * ld + 8], src[5 * ld + 8], src[4 * ld + 8],
                             src[3 * ld + 8], src[2 * ld + 8], src[1 * ld + 8], src[0 * ld + 8]);
        acc9 = _mm256_set_ps(src[7 * ld + 9], src[6 * ld + 9], src[5 * ld + 9], src[4 * ld + 9],
                             src[3 * ld + 9], src[2 * ld + 9], src[1 * ld + 9], src[0 * ld + 9]);
    } else {
        acc0 = acc1 = acc2 = acc3 = acc4 = acc5 = acc6 = acc7 = acc8 = acc9 = _mm256_setzero_ps();
    }

    const float *bp = pack;
    if (transpose_a) {
        // op(A)[i, p] = a[p·lda + i]: the column is contiguous.
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(height), lanes);
        for (ptrdiff_t p = 0; p < k; p++, bp += 16) {
            __m256 x = height == 8 ? _mm256_loadu_ps(a + p * lda) : _mm256_maskload_ps(a + p * lda, mask);
            TEN_FMAS(x, bp);
        }
    } else {
        // op(A)[i, p] = a[i·lda + p]: rows r and r+4 side by side, four depths at a time,
        // transposed in-lane into four columns.
        const float *r0 = a, *r1 = a + (height > 1 ? 1 : 0) * lda, *r2 = a + (height > 2 ? 2 : 0) * lda;
        const float *r3 = a + (height > 3 ? 3 : 0) * lda, *r4 = a + (height > 4 ? 4 : 0) * lda;
        const float *r5 = a + (height > 5 ? 5 : 0) * lda, *r6 = a + (height > 6 ? 6 : 0) * lda;
        const float *r7 = a + (height > 7 ? 7 : 0) * lda;
        ptrdiff_t p = 0;
        for (; p + 4 <= k; p += 4, bp += 64) {
            __m256 t0 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(r0 + p)), _mm_loadu_ps(r4 + p), 1);
            __m256 t1 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(r1 + p)), _mm_loadu_ps(r5 + p), 1);
            __m256 t2 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(r2 + p)), _mm_loadu_ps(r6 + p), 1);
            __m256 t3 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(r3 + p)), _mm_loadu_ps(r7 + p), 1);
            __m256 u0 = _mm256_unpacklo_ps(t0, t1), u1 = _mm256_unpackhi_ps(t0, t1);
            __m256 u2 = _mm256_unpacklo_ps(t2, t3), u3 = _mm256_unpackhi_ps(t2, t3);
            __m256 x0 = _mm256_shuffle_ps(u0, u2, 0x44), x1 = _mm256_shuffle_ps(u0, u2, 0xEE);
            __m256 x2 = _mm256_shuffle_ps(u1, u3, 0x44), x3 = _mm256_shuffle_ps(u1, u3, 0xEE);
            TEN_FMAS(x0, bp);
            TEN_FMAS(x1, bp + 16);
            TEN_FMAS(x2, bp + 32);
            TEN_FMAS(x3, bp + 48);
        }
        for (; p < k; p++, bp += 16) {
            __m256 x = _mm256_set_ps(r7[p], r6[p], r5[p], r4[p], r3[p], r2[p], r1[p], r0[p]);
            TEN_FMAS(x, bp);
        }
    }

    if (scale != 1) {
        const __m256 s = _mm256_set1_ps(scale);
        acc0 = _mm256_mul_ps(acc0, s); acc1 = _mm256_mul_ps(acc1, s);
        acc2 = _mm256_mul_ps(acc2, s); acc3 = _mm256_mul_ps(acc3, s);
        acc4 = _mm256_mul_ps(acc4, s); acc5 = _mm256_mul_ps(acc5, s);
        acc6 = _mm256_mul_ps(acc6, s); acc7 = _mm256_mul_ps(acc7, s);
        acc8 = _mm256_mul_ps(acc8, s); acc9 = _mm256_mul_ps(acc9, s);
    }
    __m256 r[8] = {acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7};
    transpose8x8(r);
    float *dst = height == 8 ? c : buffer;
    ptrdiff_t ld = height == 8 ? ldc : 16;
    for (int i = 0; i < 8; i++) _mm256_storeu_ps(dst + i * ld, r[i]);
    float last[16] __attribute__((aligned(32)));
    _mm256_store_ps(last, acc8);
    _mm256_store_ps(last + 8, acc9);
    for (int i = 0; i < 8; i++) {
        dst[i * ld + 8] = last[i];
        dst[i * ld + 9] = last[8 + i];
    }
    if (height < 8) {
        for (int i = 0; i < height; i++) {
            for (int j = 0; j < 10; j++) c[i * ldc + j] = buffer[i * 16 + j];
        }
    }
}

void kymo_ten_columns(ptrdiff_t m, ptrdiff_t k,
                      const float *a, ptrdiff_t lda, bool transpose_a,
                      const float *b, ptrdiff_t ldb, bool transpose_b,
                      float *c, ptrdiff_t ldc, bool accumulate, float scale) {
    if (m <= 0 || k <= 0) __builtin_trap();
    float *pack = aligned_alloc(64, (size_t)k * 64);
    if (pack == NULL) __builtin_trap();
    pack_b(k, b, ldb, transpose_b, pack);
    const ptrdiff_t a_row = transpose_a ? 1 : lda;
    ptrdiff_t i = 0;
    for (; i + 8 <= m; i += 8) {
        tile(8, k, a + i * a_row, lda, transpose_a, pack, c + i * ldc, ldc, accumulate, scale);
    }
    if (i < m) {
        tile((int)(m - i), k, a + i * a_row, lda, transpose_a, pack, c + i * ldc, ldc, accumulate, scale);
    }
    free(pack);
}

#else

bool kymo_ten_columns_available(void) { return false; }

void kymo_ten_columns(ptrdiff_t m, ptrdiff_t k,
                      const float *a, ptrdiff_t lda, bool transpose_a,
                      const float *b, ptrdiff_t ldb, bool transpose_b,
                      float *c, ptrdiff_t ldc, bool accumulate, float scale) {
    (void)m; (void)k; (void)a; (void)lda; (void)transpose_a; (void)b; (void)ldb; (void)transpose_b;
    (void)c; (void)ldc; (void)accumulate; (void)scale;
    __builtin_trap();
}

#endif
