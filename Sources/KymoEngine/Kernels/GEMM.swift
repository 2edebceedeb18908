import Dispatch

/// Single-precision matrix multiply: `C (m×n) = scale·([C +] op(A) (m×k) · op(B) (k×n))`, row-major.
///
/// **Determinism contract.** Every output element is one fused multiply-add chain in ascending k:
/// `acc₀ = accumulate ? C[i,j] : 0`, `acc_{k+1} = fma(op(A)[i,k], op(B)[k,j], acc_k)`, `C[i,j] = acc_K`.
/// With `scale ≠ 1` the stored value is `fl(acc_K·scale)` (one rounding, as a separate scaling pass
/// would give). Any blocking, packing, SIMD width or thread count must reproduce exactly this chain, so results
/// are bit-identical across block sizes, thread counts, and debug and release builds. Work is split
/// over outputs only, never over k.
///
/// **Implementation.** Goto-style blocking (`nc` columns, `kc` depths, `mc` rows) around a 6×16
/// register-blocked micro-kernel: twelve `SIMD8<Float>` accumulators, one FMA per element and depth.
/// `op(B)` is packed into `kc×16` column panels when it is transposed (8×8 SIMD transposes) or
/// reused by more than two row tiles; otherwise, like `op(A)`, it is read in place. Splitting k
/// into `kc` blocks continues each element's chain through C (the kernel loads C, goes on with
/// the FMAs, stores), so the bits do not depend on `kc`. Short row tiles use kernels specialized
/// by height; narrow column tiles go through a 6×16 buffer. A narrow output is computed as
/// Cᵀ = op(B)ᵀ·op(A)ᵀ (as is every layer's forward product, `multiplyLayerForward`), which wastes
/// fewer SIMD lanes and gives every element the same chain: into a row-major scratch, so that full
/// tiles are stored directly, then transposed into C. An output exactly 10 wide (a 10-class
/// output layer) goes through `tenColumns` instead, which reads op(A) in place and wastes no
/// lanes, and a product of depth k ≤ 16 with untransposed operands (that layer's input
/// gradient) through `smallDepth`, when the build has its AVX2/FMA C kernels (CKernels).
/// `GEMM.reference` stays as the oracle the tests compare against bit for bit.
public enum GEMM {
    /// `op(A)` is A (`m×k`, leading dimension `lda`) or, with `transposeA`, Aᵀ where A is `k×m`.
    /// `op(B)` is B (`k×n`, `ldb`) or, with `transposeB`, Bᵀ where B is `n×k`.
    /// `threads` splits the output into that many column (or row) strips of whole tiles, run with
    /// `DispatchQueue.concurrentPerform`; the result is bit-identical for any thread count.
    /// `scale` multiplies each result as it is stored (the trainer's 1/B), saving a pass over C.
    /// - Complexity: O(m·n·k) time; O(kc·nc) scratch floats per thread (at most 1 MiB),
    ///   allocated per call.
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool = false, scale: Float = 1,
        threads: Int = 1
    ) {
        multiply(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
                 b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc,
                 accumulate: accumulate, scale: scale, threads: threads, blocking: .standard)
    }

    /// A layer's forward product, `z (batch×out) += a (batch×in)·Wᵀ` with W stored out×in, as
    /// `Dense.forward` computes it. With `skippingZeros` (an input that came out of a ReLU or
    /// dropout) through `multiplySkippingZeros`; densely, or when the input turns out dense, as
    /// the transposed product W·aᵀ in one depth block (`Blocking.forward`), so that W is read in
    /// place and only aᵀ is packed. Same bits as
    /// `multiply(m: batch, n: out, k: in, a: a, b: W, transposeB: true, accumulate: true)`.
    /// - Complexity: O(batch·in·out) time (O(nnz(a)·out) when skipping); O(batch·(in + out))
    ///   scratch floats, allocated per call.
    public static func multiplyLayerForward(
        batch: Int, inFeatures: Int, outFeatures: Int,
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        skippingZeros: Bool = false, threads: Int = 1
    ) {
        if skippingZeros {
            multiplySkippingZeros(m: batch, n: outFeatures, k: inFeatures, a: input, lda: inFeatures,
                                  transposeA: false, b: weight, ldb: inFeatures, transposeB: true,
                                  c: output, ldc: outFeatures, accumulate: true, scale: 1, threads: threads,
                                  denseBlocking: .forward)
            return
        }
        multiply(m: batch, n: outFeatures, k: inFeatures, a: input, lda: inFeatures, transposeA: false,
                 b: weight, ldb: inFeatures, transposeB: true, c: output, ldc: outFeatures,
                 accumulate: true, threads: threads, blocking: .forward)
    }

    /// The oracle: the contract's FMA chain, one element at a time.
    /// - Complexity: O(m·n·k).
    public static func reference(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool = false, scale: Float = 1
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var acc: Float = accumulate ? c[i * ldc + j] : 0
                for p in 0..<k {
                    let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    acc.addProduct(x, y)
                }
                c[i * ldc + j] = scale != 1 ? acc * scale : acc
            }
        }
    }

    /// Cache blocking of the kernel. Any values give the same bits; they only change speed
    /// (on this machine kc 256…1024 and nc 512…1024 measured within noise of each other).
    /// `mc` is rounded up to a multiple of `GEMM.mr`, `nc` to a multiple of `GEMM.nr`.
    struct Blocking: Sendable {
        /// Depth of one block (k direction); C carries the chain from one block to the next.
        var kc: Int
        /// Rows of op(A) per block.
        var mc: Int
        /// Columns of op(B) packed at once.
        var nc: Int

        /// Compute Cᵀ = op(B)ᵀ·op(A)ᵀ (true), C directly (false), or let the shape decide (nil).
        /// Same bits either way (fma is symmetric in its factors).
        var transposedProduct: Bool? = nil

        /// Whether a 10-column C goes through `GEMM.tenColumns` (no packing of op(A)) rather than
        /// the blocked kernel. Same bits either way.
        var tenColumnKernel = true

        /// Whether a product of depth at most 16 with untransposed operands goes through the C
        /// kernel `GEMM.smallDepth` (when the build has it) rather than the blocked kernel.
        /// Same bits either way.
        var smallDepthKernel = true

        static let standard = Blocking(kc: 256, mc: 72, nc: 1024)
        /// For a layer's forward product a·Wᵀ: computed as W·aᵀ, so that W (out × in, row-major)
        /// is read in place and only the small aᵀ (in × B) is packed, instead of transposing
        /// all of W into panels every step; one depth block, so each C tile is stored once.
        static let forward = Blocking(kc: 1024, mc: 72, nc: 1024, transposedProduct: true)
    }

    /// Micro-tile rows and columns.
    static let mr = 6
    static let nr = 16

    /// `multiply` with explicit blocking: the test hook that shows the bits do not depend on it.
    /// - Complexity: O(m·n·k).
    static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, scale: Float = 1, threads: Int, blocking: Blocking
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "GEMM: negative dimension")
        precondition(lda >= (transposeA ? m : k) && ldb >= (transposeB ? k : n) && ldc >= n,
                     "GEMM: leading dimension shorter than a row")
        precondition(blocking.kc > 0 && blocking.mc > 0 && blocking.nc > 0, "GEMM: empty block")
        if m == 0 || n == 0 { return }
        let operands = Operands(a: a, lda: lda, transposeA: transposeA,
                                b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc)
        let rowTiles = (m + mr - 1) / mr, columnTiles = (n + nr - 1) / nr
        let splitColumns = columnTiles >= rowTiles
        let tiles = splitColumns ? columnTiles : rowTiles
        let parts = max(1, min(threads, tiles))
        if parts == 1 {
            serial(m: m, n: n, k: k, operands, accumulate: accumulate, scale: scale, blocking: blocking)
            return
        }
        // Strips of whole tiles; each output element belongs to exactly one strip and runs its
        // whole chain there, so the split cannot change a bit.
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let first = tiles * part / parts, last = tiles * (part + 1) / parts
            if splitColumns {
                let j0 = first * nr, j1 = min(n, last * nr)
                serial(m: m, n: j1 - j0, k: k, operands.offset(row: 0, column: j0),
                       accumulate: accumulate, scale: scale, blocking: blocking)
            } else {
                let i0 = first * mr, i1 = min(m, last * mr)
                serial(m: i1 - i0, n: n, k: k, operands.offset(row: i0, column: 0),
                       accumulate: accumulate, scale: scale, blocking: blocking)
            }
        }
    }
}
