/// Single-precision matrix multiply: `C (m×n) = [C +] op(A) (m×k) · op(B) (k×n)`, row-major.
///
/// **Determinism contract.** Every output element is one fused multiply-add chain in ascending k:
/// `acc₀ = accumulate ? C[i,j] : 0`, `acc_{k+1} = fma(op(A)[i,k], op(B)[k,j], acc_k)`, `C[i,j] = acc_K`.
/// Any blocking, packing, SIMD width or thread count must reproduce exactly this chain, so results
/// are bit-identical across block sizes, thread counts, and debug and release builds. Work is split
/// over outputs only, never over k.
///
/// THIS FILE IS THE NAIVE REFERENCE: the packed SIMD kernel replaces `multiply`'s body while
/// keeping `reference` as the test oracle.
public enum GEMM {
    /// `op(A)` is A (`m×k`, leading dimension `lda`) or, with `transposeA`, Aᵀ where A is `k×m`.
    /// `op(B)` is B (`k×n`, `ldb`) or, with `transposeB`, Bᵀ where B is `n×k`.
    /// - Complexity: O(m·n·k).
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool = false,
        threads: Int = 1
    ) {
        reference(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
                  b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc, accumulate: accumulate)
    }

    /// The oracle: the contract's FMA chain, one element at a time.
    /// - Complexity: O(m·n·k).
    public static func reference(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool = false
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var acc: Float = accumulate ? c[i * ldc + j] : 0
                for p in 0..<k {
                    let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    acc.addProduct(x, y)
                }
                c[i * ldc + j] = acc
            }
        }
    }
}
