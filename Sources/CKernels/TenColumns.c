// The ten-column product C (m×10) = scale·([C +] op(A)·op(B)) with AVX2/FMA intrinsics: the
// output layer of a 10-class model (64×10×256 in the seed MLP's forward pass).
//
// Layout. Eight rows of C at a time in ten accumulators, as two row groups of four (rows
// 0, 1 | 4, 5 and 2, 3 | 6, 7: two rows per 128-bit half) times five column pairs (2q, 2q+1):
// accumulator (g, q) holds (C[ra,2q], C[ra,2q+1], C[rb,2q], C[rb,2q+1] | the same for rc, rd).
// Per depth p, op(B)'s pair (op(B)[p,2q], op(B)[p,2q+1]) is one 64-bit broadcast load
// (`vbroadcastsd`, no shuffle) from op(B) packed 16 floats per depth, and each row group's
// (a_ra, a_ra, a_rb, a_rb | a_rc, a_rc, a_rd, a_rd) is one in-lane `vshufps` of two registers
// holding rows ra and rc (and rb and rd) side by side for four depths (a 16-byte load and a
// 16-byte insert each). Ten FMAs per depth for the tile's 80 elements, no lane wasted, beside
// 5 + 2 vector loads and 3 shuffle operations. C's pairs are read and written as 64-bit halves.
//
// Why this layout (measured on the Zen 4 EPYC this was written on, 2026-11-29): the first
// version held the tile transposed (accumulator j = column j of eight rows) with ten 32-bit
// broadcasts per depth and columns of op(A) from 4×4 in-lane transposes; it ran at about 6
// cycles per depth, apparently bound by its 12 vector loads per depth rather than by its 3
// shuffles: in timing variants (wrong results, same loop otherwise) removing the transposes
// gained under 1 %, removing op(A)'s loads 8 %, and nine of the ten broadcasts another 7 %.
// Pairs halve the broadcasts: 3.39 µs against 3.72 µs for the 64×10×256 product, OpenBLAS
// 3.22 µs, interleaved in one C harness.
//
// Determinism. Each accumulator lane is one element's chain, advanced by exactly one
// `_mm256_fmadd_ps` per depth in ascending p, starting from C (accumulate) or +0, and multiplied
// once by `scale` (when ≠ 1) before the store: the contract of KymoEngine's GEMM, bit for bit
// the chain of `GEMM.reference` and of the Swift kernels. All arithmetic here is written as
// intrinsics, never as C float operators, so that no -ffp-contract setting, optimization level
// (debug builds compile this at -O0) or compiler can fuse, reorder or split it; the only other
// float operations are copies (loads, stores, shuffles, transposes), which are exact.

#include "CKernels.h"

#if defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>
#include <stdlib.h>

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

/// The pair (op(B)[p, 2q], op(B)[p, 2q+1]) in every 64-bit slot: one load, no shuffle.
static inline __attribute__((always_inline)) __m256 pair(const float *bp, int q) {
    return _mm256_castpd_ps(_mm256_broadcast_sd((const double *)(bp + 2 * q)));
}

/// One depth: x0 = (a₀,a₀,a₁,a₁ | a₄,a₄,a₅,a₅), x1 = (a₂,a₂,a₃,a₃ | a₆,a₆,a₇,a₇) (the tile's
/// rows' op(A)[·, p]) against the five column pairs of the packed row bp.
#define TEN_FMAS(x0, x1, bp)                                                             \
    do {                                                                                 \
        __m256 b_;                                                                       \
        b_ = pair((bp), 0); g00 = _mm256_fmadd_ps((x0), b_, g00); g10 = _mm256_fmadd_ps((x1), b_, g10); \
        b_ = pair((bp), 1); g01 = _mm256_fmadd_ps((x0), b_, g01); g11 = _mm256_fmadd_ps((x1), b_, g11); \
        b_ = pair((bp), 2); g02 = _mm256_fmadd_ps((x0), b_, g02); g12 = _mm256_fmadd_ps((x1), b_, g12); \
        b_ = pair((bp), 3); g03 = _mm256_fmadd_ps((x0), b_, g03); g13 = _mm256_fmadd_ps((x1), b_, g13); \
        b_ = pair((bp), 4); g04 = _mm256_fmadd_ps((x0), b_, g04); g14 = _mm256_fmadd_ps((x1), b_, g14); \
    } while (0)

/// Accumulator of row group g (rows ra, rb | rc, rd) and column pair q from a row-major tile.
static inline __attribute__((always_inline)) __m256 load_pairs(const float *t, ptrdiff_t ld, int ra, int rb,
                                                               int rc, int rd, int q) {
    __m128 lo = _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(t + ra * ld + 2 * q)),
                             (const __m64 *)(t + rb * ld + 2 * q));
    __m128 hi = _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(t + rc * ld + 2 * q)),
                             (const __m64 *)(t + rd * ld + 2 * q));
    return _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
}

static inline __attribute__((always_inline)) void store_pairs(float *t, ptrdiff_t ld, int ra, int rb,
                                                              int rc, int rd, int q, __m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    _mm_storel_pi((__m64 *)(t + ra * ld + 2 * q), lo);
    _mm_storeh_pi((__m64 *)(t + rb * ld + 2 * q), lo);
    _mm_storel_pi((__m64 *)(t + rc * ld + 2 * q), hi);
    _mm_storeh_pi((__m64 *)(t + rd * ld + 2 * q), hi);
}

/// Rows 0…height−1 (height ≤ 8) of C, starting at `a` (op(A)'s row 0 of the tile) and `c`.
/// Rows at or past `height` compute on row 0's values (or zeros) and are never stored.
static inline __attribute__((always_inline)) void tile(
    int height, ptrdiff_t k, const float *a, ptrdiff_t lda, bool transpose_a,
    const float *pack, float *c, ptrdiff_t ldc, bool accumulate, float scale) {
    // C's tile, row-major with stride 16, when it is not read or written in place.
    float buffer[8 * 16] __attribute__((aligned(32)));
    __m256 g00, g01, g02, g03, g04, g10, g11, g12, g13, g14;
    const float *src = c;
    ptrdiff_t ld = ldc;
    if (height < 8) {
        for (int r = 0; r < 8; r++) {
            for (int j = 0; j < 16; j++) buffer[r * 16 + j] = accumulate && r < height && j < 10 ? c[r * ldc + j] : 0;
        }
        src = buffer;
        ld = 16;
    }
    if (accumulate || height < 8) {
        g00 = load_pairs(src, ld, 0, 1, 4, 5, 0); g01 = load_pairs(src, ld, 0, 1, 4, 5, 1);
        g02 = load_pairs(src, ld, 0, 1, 4, 5, 2); g03 = load_pairs(src, ld, 0, 1, 4, 5, 3);
        g04 = load_pairs(src, ld, 0, 1, 4, 5, 4);
        g10 = load_pairs(src, ld, 2, 3, 6, 7, 0); g11 = load_pairs(src, ld, 2, 3, 6, 7, 1);
        g12 = load_pairs(src, ld, 2, 3, 6, 7, 2); g13 = load_pairs(src, ld, 2, 3, 6, 7, 3);
        g14 = load_pairs(src, ld, 2, 3, 6, 7, 4);
    } else {
        g00 = g01 = g02 = g03 = g04 = g10 = g11 = g12 = g13 = g14 = _mm256_setzero_ps();
    }

    const float *bp = pack;
    if (transpose_a) {
        // op(A)[i, p] = a[p·lda + i]: the column is contiguous; duplicate its lanes in pairs.
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(height), lanes);
        for (ptrdiff_t p = 0; p < k; p++, bp += 16) {
            __m256 x = height == 8 ? _mm256_loadu_ps(a + p * lda) : _mm256_maskload_ps(a + p * lda, mask);
            TEN_FMAS(_mm256_unpacklo_ps(x, x), _mm256_unpackhi_ps(x, x), bp);
        }
    } else {
        // op(A)[i, p] = a[i·lda + p]: rows r and r+4 side by side, four depths at a time; one
        // in-lane shuffle per row group and depth picks (a_r, a_r, a_r+1, a_r+1) in each half.
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
            TEN_FMAS(_mm256_shuffle_ps(t0, t1, 0x00), _mm256_shuffle_ps(t2, t3, 0x00), bp);
            TEN_FMAS(_mm256_shuffle_ps(t0, t1, 0x55), _mm256_shuffle_ps(t2, t3, 0x55), bp + 16);
            TEN_FMAS(_mm256_shuffle_ps(t0, t1, 0xAA), _mm256_shuffle_ps(t2, t3, 0xAA), bp + 32);
            TEN_FMAS(_mm256_shuffle_ps(t0, t1, 0xFF), _mm256_shuffle_ps(t2, t3, 0xFF), bp + 48);
        }
        for (; p < k; p++, bp += 16) {
            __m256 x0 = _mm256_setr_ps(r0[p], r0[p], r1[p], r1[p], r4[p], r4[p], r5[p], r5[p]);
            __m256 x1 = _mm256_setr_ps(r2[p], r2[p], r3[p], r3[p], r6[p], r6[p], r7[p], r7[p]);
            TEN_FMAS(x0, x1, bp);
        }
    }

    if (scale != 1) {
        const __m256 s = _mm256_set1_ps(scale);
        g00 = _mm256_mul_ps(g00, s); g01 = _mm256_mul_ps(g01, s); g02 = _mm256_mul_ps(g02, s);
        g03 = _mm256_mul_ps(g03, s); g04 = _mm256_mul_ps(g04, s);
        g10 = _mm256_mul_ps(g10, s); g11 = _mm256_mul_ps(g11, s); g12 = _mm256_mul_ps(g12, s);
        g13 = _mm256_mul_ps(g13, s); g14 = _mm256_mul_ps(g14, s);
    }
    float *dst = height == 8 ? c : buffer;
    ld = height == 8 ? ldc : 16;
    store_pairs(dst, ld, 0, 1, 4, 5, 0, g00); store_pairs(dst, ld, 0, 1, 4, 5, 1, g01);
    store_pairs(dst, ld, 0, 1, 4, 5, 2, g02); store_pairs(dst, ld, 0, 1, 4, 5, 3, g03);
    store_pairs(dst, ld, 0, 1, 4, 5, 4, g04);
    store_pairs(dst, ld, 2, 3, 6, 7, 0, g10); store_pairs(dst, ld, 2, 3, 6, 7, 1, g11);
    store_pairs(dst, ld, 2, 3, 6, 7, 2, g12); store_pairs(dst, ld, 2, 3, 6, 7, 3, g13);
    store_pairs(dst, ld, 2, 3, 6, 7, 4, g14);
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
