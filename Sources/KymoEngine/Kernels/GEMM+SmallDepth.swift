// The small-depth product: C (m×n) = A (m×k)·B (k×n) for k ≤ 16, the output layer's input
// gradient δ·W (k = 10 classes).

import CKernels

extension GEMM {
    /// The deepest product `smallDepth` takes.
    static let smallDepthMaximum = Int(KYMO_SMALL_DEPTH_MAX)

    /// Whether this build has the AVX2/FMA intrinsic kernel `kymo_small_depth` (CKernels).
    static var smallDepthIntrinsicsAvailable: Bool { kymo_small_depth_available() }

    /// Whether `serial` hands this product to `smallDepth`: k at most `smallDepthMaximum`,
    /// neither operand transposed, row-major C, the kernel compiled in and not switched off.
    static func takesSmallDepth(k: Int, _ o: Operands, blocking: Blocking) -> Bool {
        k <= smallDepthMaximum && !o.transposeA && !o.transposeB && o.cColumn == 1
            && blocking.smallDepthKernel && smallDepthIntrinsicsAvailable
    }

    /// `C (m×n) = scale·([C +] A·B)` through the C kernel `kymo_small_depth`: tiles of 4 rows ×
    /// 24 columns, twelve accumulators, B's rows and A's broadcasts read in place (nothing
    /// packed). With k = 10 the blocked kernel's packing of B and its per-tile setup cost as
    /// much as the ten FMAs per element; this measured 1.10× OpenBLAS on 64×256×10 in a C
    /// harness against the blocked kernel's 0.83× (README.md's GEMM paragraph). Every element is
    /// the contract's chain; requires `takesSmallDepth`.
    /// - Complexity: O(m·n·k) time; no scratch.
    static func smallDepth(m: Int, n: Int, k: Int, _ o: Operands, accumulate: Bool, scale: Float) {
        precondition(k >= 1 && k <= smallDepthMaximum && !o.transposeA && !o.transposeB && o.cColumn == 1,
                     "GEMM: the small-depth kernel takes k ≤ \(smallDepthMaximum), untransposed operands")
        kymo_small_depth(m, n, k, o.a, o.lda, o.b, o.ldb, o.c, o.cRow, accumulate, scale)
    }
}
