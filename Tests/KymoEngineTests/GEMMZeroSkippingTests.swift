import KymoCore
import Testing
@testable import KymoEngine

/// The zero-skipping product against the oracle (and so against the dense kernel), bit for bit,
/// including the cases its exactness argument singles out: signed zeros, products that round to
/// −0, and non-finite op(B) entries meeting a zero op(A) entry.
struct GEMMZeroSkippingTests {
    /// A problem whose op(A) has about `zeros` of its entries set to +0 or −0.
    static func sparseProblem(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool,
                              zeros: Double, rng: inout CounterRNG) -> GEMMTests.Problem {
        var problem = GEMMTests.Problem(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                        accumulate: accumulate, padding: Int(rng.next(below: 3)), rng: &rng)
        for i in problem.a.indices where Double(rng.nextFloat()) < zeros {
            problem.a[i] = rng.next(below: 4) == 0 ? -0.0 : 0
        }
        return problem
    }

    /// C after the skipping product (forced onto the skipping path unless `maximumDensity` says
    /// otherwise), with `scale`.
    static func skipping(_ p: GEMMTests.Problem, threads: Int, scale: Float = 1,
                         maximumDensity: Double = 1) -> [Float] {
        var out = p.c
        GEMM.multiplySkippingZeros(m: p.m, n: p.n, k: p.k, a: p.a, lda: p.lda, transposeA: p.transposeA,
                                   b: p.b, ldb: p.ldb, transposeB: p.transposeB, c: &out, ldc: p.ldc,
                                   accumulate: p.accumulate, scale: scale, threads: threads,
                                   maximumDensity: maximumDensity)
        return out
    }

    static func reference(_ p: GEMMTests.Problem, scale: Float = 1) -> [Float] {
        var out = p.c
        GEMM.reference(m: p.m, n: p.n, k: p.k, a: p.a, lda: p.lda, transposeA: p.transposeA,
                       b: p.b, ldb: p.ldb, transposeB: p.transposeB, c: &out, ldc: p.ldc,
                       accumulate: p.accumulate, scale: scale)
        return out
    }

    /// Index of the first element that differs in its bits (two NaNs count as equal: NaN payloads
    /// are not part of any GEMM's contract).
    static func firstDifference(_ x: [Float], _ y: [Float]) -> Int? {
        x.indices.first { x[$0].bitPattern != y[$0].bitPattern && !(x[$0].isNaN && y[$0].isNaN) }
    }

    @Test func randomSparseProblemsMatchReference() {
        var rng = CounterRNG(key: 0x5_C1B)
        for trial in 0..<80 {
            let m = 1 + Int(rng.next(below: 40)), n = 1 + Int(rng.next(below: 150)), k = 1 + Int(rng.next(below: 140))
            let zeros = [0.0, 0.3, 0.5, 0.9, 1.0][Int(rng.next(below: 5))]
            let problem = Self.sparseProblem(m: m, n: n, k: k, transposeA: rng.next(below: 2) == 1,
                                             transposeB: rng.next(below: 2) == 1, accumulate: rng.next(below: 2) == 1,
                                             zeros: zeros, rng: &rng)
            let scale: Float = rng.next(below: 2) == 0 ? 1 : 1 / 48
            let threads = 1 + Int(rng.next(below: 3))
            let expected = Self.reference(problem, scale: scale)
            for density in [1.0, 0.6] {
                let got = Self.skipping(problem, threads: threads, scale: scale, maximumDensity: density)
                let diff = Self.firstDifference(got, expected)
                #expect(diff == nil, "trial \(trial): \(problem) zeros=\(zeros) scale=\(scale) threads=\(threads) density≤\(density) at \(diff ?? -1)")
            }
        }
    }

    /// The seed MLP's three kinds of product (narrowed) at half zeros, every thread count: the
    /// weight gradient δᵀ·a (k = B, one depth block), the forward a·Wᵀ + b (accumulating over
    /// several depth blocks) and the input gradient δ·W.
    @Test(arguments: [("dW", 256, 136, 64, true, false, false, Float(1) / 64),
                      ("forward", 64, 136, 300, false, true, true, Float(1)),
                      ("input gradient", 64, 136, 200, false, false, false, Float(1))])
    func mlpShapesAnyThreadCount(name: String, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
                                 accumulate: Bool, scale: Float) {
        var rng = CounterRNG(key: 0xD_0256 + UInt64(k))
        let problem = Self.sparseProblem(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                         accumulate: accumulate, zeros: 0.5, rng: &rng)
        let expected = Self.reference(problem, scale: scale)
        for threads in [1, 2, 3, 7] {
            #expect(Self.firstDifference(Self.skipping(problem, threads: threads, scale: scale), expected) == nil,
                    "\(name) threads=\(threads)")
        }
        var viaPublic = problem.c
        GEMM.multiplySkippingZeros(m: m, n: n, k: k, a: problem.a, lda: problem.lda, transposeA: transposeA,
                                   b: problem.b, ldb: problem.ldb, transposeB: transposeB, c: &viaPublic,
                                   ldc: problem.ldc, accumulate: accumulate, scale: scale, threads: 2)
        #expect(Self.firstDifference(viaPublic, expected) == nil, "\(name), public entry point")
    }

    /// Chains that pass through −0: a −0 start (accumulate), and products too small for a Float
    /// that round to −0, each followed by zeros of A. The dense chain turns −0 + (+0) into +0; a
    /// naive skipping chain would keep −0 (the test checks that such cases occur), the kernel
    /// must give the dense chain's bits.
    @Test func signedZeroChainsMatchReference() {
        let tiny: Float = 1e-30  // tiny·tiny = ±1e-60 rounds to ±0
        let (m, n, k) = (1, 140, 5)
        let a: [Float] = [tiny, 0, -tiny, -0.0, 0]
        var b = [Float](repeating: 0, count: k * n)
        for j in 0..<n {
            b[0 * n + j] = j % 3 == 0 ? -tiny : tiny
            b[1 * n + j] = j % 2 == 0 ? 2 : -2
            b[2 * n + j] = j % 5 == 0 ? -tiny : tiny
            b[3 * n + j] = j % 7 == 0 ? 2 : -2
            b[4 * n + j] = j % 4 == 0 ? 1 : -1
        }
        for accumulate in [false, true] {
            let c = (0..<n).map { j -> Float in j % 11 < 6 ? -0.0 : 0 }
            var expected = c, got = c
            GEMM.reference(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &expected, ldc: n, accumulate: accumulate)
            GEMM.multiplySkippingZeros(m: m, n: n, k: k, a: a, lda: k, transposeA: false, b: b, ldb: n,
                                       transposeB: false, c: &got, ldc: n, accumulate: accumulate,
                                       scale: 1, threads: 1, maximumDensity: 1)
            let naive = (0..<n).map { j -> Float in
                var acc: Float = accumulate ? c[j] : 0
                for p in 0..<k where a[p] != 0 { acc.addProduct(a[p], b[p * n + j]) }
                return acc
            }
            #expect(Self.firstDifference(naive, expected) != nil, "the case the kernel must repair occurs")
            #expect(Self.firstDifference(got, expected) == nil,
                    "accumulate=\(accumulate): \(got.map(\.bitPattern)) vs \(expected.map(\.bitPattern))")
        }
    }

    /// A start of −0 and an all-zero row of A: the dense chain adds +0·b terms and ends at +0 where
    /// b > 0, −0 where b < 0; skipping every term would leave −0 everywhere.
    @Test func negativeZeroStartWithAllZeroRow() {
        let (m, n, k) = (2, 16, 3)
        let a = [Float](repeating: 0, count: m * k)
        let b = (0..<(k * n)).map { Float($0 % 2 == 0 ? 1.5 : -1.5) }
        let c = [Float](repeating: -0.0, count: m * n)
        var expected = c, got = c
        GEMM.reference(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &expected, ldc: n, accumulate: true)
        GEMM.multiplySkippingZeros(m: m, n: n, k: k, a: a, lda: k, transposeA: false, b: b, ldb: n,
                                   transposeB: false, c: &got, ldc: n, accumulate: true, scale: 1, threads: 1,
                                   maximumDensity: 1)
        #expect(expected.contains { $0.bitPattern == 0 }, "the dense chain does turn −0 into +0 here")
        #expect(Self.firstDifference(got, expected) == nil)
    }

    /// A zero in A meeting an infinity or NaN in B: the dense chain gives NaN (0·∞), so that
    /// term must not be skipped — whichever way B is stored.
    @Test(arguments: [false, true])
    func nonFiniteBIsNeverSkipped(transposeB: Bool) {
        var rng = CounterRNG(key: 0xF1_417E + (transposeB ? 1 : 0))
        var problem = Self.sparseProblem(m: 9, n: 33, k: 70, transposeA: false, transposeB: transposeB,
                                         accumulate: true, zeros: 0.5, rng: &rng)
        // Row p = 3 of op(B) gets an infinity at column 5, row p = 66 a NaN at column 20; A's
        // column 3 and 66 are zero in every row.
        func setB(_ p: Int, _ j: Int, _ value: Float) {
            problem.b[transposeB ? j * problem.ldb + p : p * problem.ldb + j] = value
        }
        setB(3, 5, .infinity)
        setB(66, 20, .nan)
        for i in 0..<problem.m { problem.a[i * problem.lda + 3] = 0; problem.a[i * problem.lda + 66] = 0 }
        let expected = Self.reference(problem)
        #expect(expected[5].isNaN && expected[20].isNaN)
        for threads in [1, 2] {
            let got = Self.skipping(problem, threads: threads)
            #expect(Self.firstDifference(got, expected) == nil, "threads=\(threads)")
        }
    }

    /// The dense kernel's scale-on-store equals scaling after the product, bit for bit.
    @Test func denseScaleOnStoreMatchesReference() {
        var rng = CounterRNG(key: 0x5CA1E)
        for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
            for accumulate in [false, true] {
                let problem = GEMMTests.Problem(m: 23, n: 41, k: 70, transposeA: transposeA, transposeB: transposeB,
                                                accumulate: accumulate, padding: 2, rng: &rng)
                var expected = problem.reference()
                for i in 0..<problem.m { for j in 0..<problem.n { expected[i * problem.ldc + j] *= 1 / 3 } }
                for (threads, blocking) in [(1, GEMM.Blocking.standard), (2, GEMM.Blocking(kc: 9, mc: 7, nc: 17))] {
                    var got = problem.c
                    GEMM.multiply(m: problem.m, n: problem.n, k: problem.k, a: problem.a, lda: problem.lda,
                                  transposeA: transposeA, b: problem.b, ldb: problem.ldb, transposeB: transposeB,
                                  c: &got, ldc: problem.ldc, accumulate: accumulate, scale: 1 / 3,
                                  threads: threads, blocking: blocking)
                    #expect(GEMMTests.firstDifference(got, expected) == nil, "\(problem) threads=\(threads)")
                }
            }
        }
    }

    /// The row masks mark exactly the nonzero entries (±0 unmarked, NaN and subnormals marked),
    /// for lengths that exercise the 32-, 8- and 1-entry steps and a partial last word.
    @Test func masksMarkExactlyTheNonzeroEntries() {
        var rng = CounterRNG(key: 0x3A5C)
        for k in [1, 7, 8, 31, 32, 33, 63, 64, 65, 100, 130] {
            let m = 3, lda = k + 2
            var a = (0..<(m * lda)).map { _ -> Float in
                switch rng.next(below: 6) {
                case 0: return 0
                case 1: return -0.0
                case 2: return .leastNonzeroMagnitude
                case 3: return .nan
                default: return rng.nextFloat() - 0.5
                }
            }
            a[0] = 0
            let words = (k + 63) / 64
            var masks = [UInt64](repeating: 0xDEAD, count: m * words)
            let count = GEMM.buildMasks(m: m, k: k, a: a, lda: lda, masks: &masks, words: words)
            var expectedCount = 0
            for i in 0..<m {
                for p in 0..<k {
                    let nonzero = a[i * lda + p] != 0
                    if nonzero { expectedCount += 1 }
                    let bit = (masks[i * words + p / 64] >> UInt64(p % 64)) & 1
                    #expect((bit == 1) == nonzero, "k=\(k) row \(i) p=\(p)")
                }
                for p in k..<(words * 64) {
                    #expect((masks[i * words + p / 64] >> UInt64(p % 64)) & 1 == 0, "k=\(k) padding bit \(p)")
                }
            }
            #expect(count == expectedCount, "k=\(k)")
        }
    }
}
