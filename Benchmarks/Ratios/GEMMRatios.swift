import COpenBLAS
import Foundation
import KymoEngine

/// One GEMM problem of the seed MLP (784-512-256-10, batch 64, weights stored (out, in)).
struct GEMMShape {
    var name: String
    var m: Int, n: Int, k: Int
    var transposeA: Bool, transposeB: Bool
    /// The entry point the trainer calls for this product (see `Dense`).
    var routine: Routine

    enum Routine: String {
        /// `GEMM.multiplyLayerForward`: the first layer's forward product (its input, the data,
        /// has few zeros).
        case layerForward = "layer fwd"
        /// `GEMM.multiplyLayerForward(skippingZeros: true)`: a hidden layer's forward product;
        /// on these dense operands it falls back to the dense transposed product after
        /// building its masks, as it does in training when a batch is dense.
        case layerForwardSkipping = "layer fwd, skipping"
        /// `GEMM.multiplySkippingZeros`: the hidden layers' δ products (δ went back through a
        /// ReLU); on these dense operands it falls back to `multiply` after building its masks,
        /// as it does in training when a batch is dense.
        case skipping = "skipping"
        /// `GEMM.multiply`: the output layer's δ products.
        case plain = "multiply"
    }

    var lda: Int { transposeA ? m : k }
    var ldb: Int { transposeB ? k : n }

    /// forward y = x·Wᵀ; weight gradient dW = δᵀ·x; input gradient dx = δ·W; for each layer
    /// (fc1's dx is never computed in training; it is kept as one more large shape).
    static let mlp: [GEMMShape] = [(784, 512), (512, 256), (256, 10)].enumerated().flatMap { (layer, shape) in
        let (inputs, outputs) = shape
        let backward: Routine = layer == 2 ? .plain : .skipping
        return [
            GEMMShape(name: "fwd \(inputs)->\(outputs)", m: 64, n: outputs, k: inputs,
                      transposeA: false, transposeB: true, routine: layer == 0 ? .layerForward : .layerForwardSkipping),
            GEMMShape(name: "dW  \(outputs)x\(inputs)", m: outputs, n: inputs, k: 64,
                      transposeA: true, transposeB: false, routine: backward),
            GEMMShape(name: "dx  \(outputs)->\(inputs)", m: 64, n: inputs, k: outputs,
                      transposeA: false, transposeB: false, routine: backward),
        ]
    }

    /// C = op(A)·op(B) through this shape's routine (accumulating onto C for the forward
    /// products, as the trainer does onto the bias).
    func run(a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        switch routine {
        case .layerForward, .layerForwardSkipping:
            GEMM.multiplyLayerForward(batch: m, inFeatures: k, outFeatures: n, input: a, weight: b, output: c,
                                      skippingZeros: routine == .layerForwardSkipping)
        case .skipping:
            GEMM.multiplySkippingZeros(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
                                       b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: n,
                                       accumulate: name.hasPrefix("fwd"))
        case .plain:
            GEMM.multiply(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
                          b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: n)
        }
    }
}

/// Deterministic, irregular test values in [-1, 1) (a fixed formula, not a random generator).
func gemmFill(_ count: Int, salt: Int) -> [Float] {
    (0..<count).map { i in
        let h = (i &* 2_654_435_761 &+ salt &* 40_503) & 0xFFFF
        return Float(h) / 32768 - 1
    }
}

/// `kymo-ratios gemm`: our packed GEMM against single-threaded OpenBLAS on the MLP's shapes,
/// measured interleaved in one run; first checks, in this release build, that the packed kernel
/// equals the reference bit for bit (all transposes, accumulate on/off, 1 and 2 threads).
func gemmRatios() throws {
    openblas_set_num_threads(1)
    struct Mismatch: Error, CustomStringConvertible { var description: String }

    // KYMO_GEMM_ONLY=<text> keeps the shapes whose name contains it (for profiling one shape).
    let only = ProcessInfo.processInfo.environment["KYMO_GEMM_ONLY"]

    // 1. Bit-exactness in release.
    var checked = 0
    for shape in GEMMShape.mlp where only == nil {
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            for accumulate in [false, true] {
                for threads in [1, 2] {
                    let (m, n, k) = (shape.m, shape.n, shape.k)
                    let lda = ta ? m : k, ldb = tb ? k : n
                    let a = gemmFill(m * k, salt: 1), b = gemmFill(k * n, salt: 2)
                    let c0 = gemmFill(m * n, salt: 3)
                    var fast = c0, slow = c0
                    GEMM.multiply(m: m, n: n, k: k, a: a, lda: lda, transposeA: ta,
                                  b: b, ldb: ldb, transposeB: tb, c: &fast, ldc: n,
                                  accumulate: accumulate, threads: threads)
                    GEMM.reference(m: m, n: n, k: k, a: a, lda: lda, transposeA: ta,
                                   b: b, ldb: ldb, transposeB: tb, c: &slow, ldc: n,
                                   accumulate: accumulate)
                    if let i = (0..<(m * n)).first(where: { fast[$0].bitPattern != slow[$0].bitPattern }) {
                        throw Mismatch(description: "GEMM \(shape.name) tA=\(ta) tB=\(tb) acc=\(accumulate) "
                            + "threads=\(threads): element \(i) fast \(fast[i]) != reference \(slow[i])")
                    }
                    checked += 1
                }
            }
        }
    }
    print("bit-exact: packed == reference on \(checked) cases (9 shapes x 4 transposes x accumulate x threads 1,2)")
    // Each shape through the routine the trainer calls, against the reference.
    for shape in GEMMShape.mlp where only == nil {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let a = gemmFill(m * k, salt: 11), b = gemmFill(k * n, salt: 12), c0 = gemmFill(m * n, salt: 13)
        var fast = c0, slow = c0
        shape.run(a: a, b: b, c: &fast)
        GEMM.reference(m: m, n: n, k: k, a: a, lda: shape.lda, transposeA: shape.transposeA,
                       b: b, ldb: shape.ldb, transposeB: shape.transposeB, c: &slow, ldc: n,
                       accumulate: shape.name.hasPrefix("fwd"))
        if let i = (0..<(m * n)).first(where: { fast[$0].bitPattern != slow[$0].bitPattern }) {
            throw Mismatch(description: "GEMM \(shape.name) via \(shape.routine.rawValue): element \(i)")
        }
    }

    // 2. Speed, one thread each, interleaved.
    print("shape              m    n    k   ours GFLOP/s  OpenBLAS GFLOP/s  ratio  (our routine, as the trainer calls it)")
    var worst = Double.infinity
    var stepOurs = 0.0, stepBLAS = 0.0  // seconds per call, summed over the shapes
    for shape in GEMMShape.mlp where only.map({ shape.name.contains($0) }) ?? true {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let a = gemmFill(m * k, salt: 4), b = gemmFill(k * n, salt: 5)
        var c = [Float](repeating: 0, count: m * n)
        let flops = 2.0 * Double(m * n * k)
        let reps = max(1, Int(2e7 / flops))  // ~20 MFLOP per timed sample
        let ta = shape.transposeA, tb = shape.transposeB
        let (lda, ldb) = (shape.lda, shape.ldb)
        let times = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    let (ap, bp, cp) = (pa.baseAddress!, pb.baseAddress!, pc.baseAddress!)
                    return Stopwatch.interleavedMedians(rounds: only == nil ? 31 : 301, [
                        {
                            for _ in 0..<reps { shape.run(a: ap, b: bp, c: cp) }
                        },
                        {
                            for _ in 0..<reps {
                                cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
                                            tb ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k),
                                            1, ap, Int32(lda), bp, Int32(ldb),
                                            0, cp, Int32(n))
                            }
                        },
                    ])
                }
            }
        }
        let ours = flops * Double(reps) / times[0] / 1e9
        let blas = flops * Double(reps) / times[1] / 1e9
        worst = min(worst, ours / blas)
        stepOurs += times[0] / Double(reps)
        stepBLAS += times[1] / Double(reps)
        let label = shape.name.padding(toLength: 16, withPad: " ", startingAt: 0)
        print("\(label) \(pad(m, 4)) \(pad(n, 4)) \(pad(k, 4))   \(pad(ours, 12))  \(pad(blas, 16))  \(pad(ours / blas, 5))  \(shape.routine.rawValue)")
    }
    print("worst ratio ours/OpenBLAS: \(pad(worst, 4)) (target >= 0.80)")
    print("sum over these shapes (one training step's GEMMs): ours \(pad(stepOurs * 1e6, 6)) us, "
        + "OpenBLAS \(pad(stepBLAS * 1e6, 6)) us, ratio \(pad(stepBLAS / stepOurs, 4))")
    try zeroSkippingRatios(only: only)
}

/// The zero-skipping product against the dense one on the MLP's products whose op(A) comes out
/// of a ReLU (about half zeros at seed scale): bit-identity in this build, then time per call.
func zeroSkippingRatios(only: String?) throws {
    struct Mismatch: Error, CustomStringConvertible { var description: String }
    print("zero-skipping product, op(A) with half its entries zero (as after a ReLU):")
    print("shape              m    n    k   dense us  skipping us  ratio")
    let shapes = GEMMShape.mlp.filter { s in
        ["dW  512x784", "dW  256x512", "fwd 512->256", "dx  256->512"].contains(s.name)
    }
    for shape in shapes where only.map({ shape.name.contains($0) }) ?? true {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let (ta, tb, lda, ldb) = (shape.transposeA, shape.transposeB, shape.lda, shape.ldb)
        // Zero where a second fill is negative: about half, in no pattern.
        let a = zip(gemmFill(m * k, salt: 6), gemmFill(m * k, salt: 7)).map { $1 < 0 ? 0 : $0 }
        let b = gemmFill(k * n, salt: 8)
        var dense = [Float](repeating: 0, count: m * n), skipping = dense
        GEMM.multiply(m: m, n: n, k: k, a: a, lda: lda, transposeA: ta, b: b, ldb: ldb, transposeB: tb,
                      c: &dense, ldc: n)
        GEMM.multiplySkippingZeros(m: m, n: n, k: k, a: a, lda: lda, transposeA: ta, b: b, ldb: ldb,
                                   transposeB: tb, c: &skipping, ldc: n)
        if let i = (0..<(m * n)).first(where: { dense[$0].bitPattern != skipping[$0].bitPattern }) {
            throw Mismatch(description: "zero-skipping \(shape.name): element \(i) \(skipping[i]) != dense \(dense[i])")
        }
        let reps = max(1, Int(2e7 / (2.0 * Double(m * n * k))))
        var c = dense
        let times = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    let (ap, bp, cp) = (pa.baseAddress!, pb.baseAddress!, pc.baseAddress!)
                    return Stopwatch.interleavedMedians(rounds: only == nil ? 31 : 301, [
                        {
                            for _ in 0..<reps {
                                GEMM.multiply(m: m, n: n, k: k, a: ap, lda: lda, transposeA: ta,
                                              b: bp, ldb: ldb, transposeB: tb, c: cp, ldc: n)
                            }
                        },
                        {
                            for _ in 0..<reps {
                                GEMM.multiplySkippingZeros(m: m, n: n, k: k, a: ap, lda: lda, transposeA: ta,
                                                           b: bp, ldb: ldb, transposeB: tb, c: cp, ldc: n)
                            }
                        },
                    ])
                }
            }
        }
        let label = shape.name.padding(toLength: 16, withPad: " ", startingAt: 0)
        let (d, z) = (times[0] / Double(reps) * 1e6, times[1] / Double(reps) * 1e6)
        print("\(label) \(pad(m, 4)) \(pad(n, 4)) \(pad(k, 4))   \(pad(d, 8))  \(pad(z, 11))  \(pad(d / z, 5))")
    }
}

private func pad(_ value: Int, _ width: Int) -> String {
    let s = String(value)
    return String(repeating: " ", count: max(0, width - s.count)) + s
}

private func pad(_ value: Double, _ width: Int) -> String {
    guard value.isFinite else { return String(repeating: " ", count: max(0, width - 1)) + "-" }
    let s = String(Double(Int((value * 100).rounded())) / 100)
    return String(repeating: " ", count: max(0, width - s.count)) + s
}
