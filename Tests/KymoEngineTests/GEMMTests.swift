import KymoCore
import Testing
@testable import KymoEngine

/// The packed GEMM against the naive oracle, bit for bit.
struct GEMMTests {
    /// One random problem: operands with padded leading dimensions, and C with a sentinel border.
    struct Problem: CustomStringConvertible {
        var m: Int, n: Int, k: Int
        var transposeA: Bool, transposeB: Bool, accumulate: Bool
        var lda: Int, ldb: Int, ldc: Int
        var a: [Float], b: [Float], c: [Float]

        var description: String {
            "m=\(m) n=\(n) k=\(k) tA=\(transposeA) tB=\(transposeB) acc=\(accumulate) "
                + "lda=\(lda) ldb=\(ldb) ldc=\(ldc)"
        }

        init(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool,
             padding: Int, rng: inout CounterRNG) {
            self.m = m; self.n = n; self.k = k
            self.transposeA = transposeA; self.transposeB = transposeB; self.accumulate = accumulate
            lda = (transposeA ? m : k) + padding
            ldb = (transposeB ? k : n) + padding
            ldc = n + padding
            func values(_ count: Int, _ rng: inout CounterRNG) -> [Float] {
                (0..<count).map { _ in rng.nextFloat() * 2 - 1 }
            }
            a = values((transposeA ? k : m) * lda, &rng)
            b = values((transposeB ? n : k) * ldb, &rng)
            c = values(m * ldc, &rng)
        }

        /// C after the packed kernel with the given threads and blocking.
        func fast(threads: Int, blocking: GEMM.Blocking = .standard) -> [Float] {
            var out = c
            GEMM.multiply(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
                          b: b, ldb: ldb, transposeB: transposeB, c: &out, ldc: ldc,
                          accumulate: accumulate, threads: threads, blocking: blocking)
            return out
        }

        /// C after the public entry point.
        func fastPublic(threads: Int) -> [Float] {
            var out = c
            GEMM.multiply(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
                          b: b, ldb: ldb, transposeB: transposeB, c: &out, ldc: ldc,
                          accumulate: accumulate, threads: threads)
            return out
        }

        /// C after the oracle.
        func reference() -> [Float] {
            var out = c
            GEMM.reference(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
                           b: b, ldb: ldb, transposeB: transposeB, c: &out, ldc: ldc,
                           accumulate: accumulate)
            return out
        }
    }

    /// Index of the first element whose bits differ, or nil.
    static func firstDifference(_ x: [Float], _ y: [Float]) -> Int? {
        #expect(x.count == y.count)
        return x.indices.first { x[$0].bitPattern != y[$0].bitPattern }
    }

    /// Sizes around the 6×16 tile: 1, odd, tile multiples and one past them.
    static let edgeSizes = [1, 2, 5, 6, 7, 11, 12, 13, 15, 16, 17, 23, 31, 32, 33]

    @Test func randomShapesMatchReferenceBitForBit() {
        var rng = CounterRNG(key: 0x6E_4D_4D)
        for trial in 0..<120 {
            func size() -> Int {
                rng.next(below: 2) == 0
                    ? Self.edgeSizes[Int(rng.next(below: UInt64(Self.edgeSizes.count)))]
                    : 1 + Int(rng.next(below: 40))
            }
            let problem = Problem(
                m: size(), n: size(), k: size(),
                transposeA: rng.next(below: 2) == 1, transposeB: rng.next(below: 2) == 1,
                accumulate: rng.next(below: 2) == 1, padding: Int(rng.next(below: 4)), rng: &rng)
            let blocking = GEMM.Blocking(kc: 1 + Int(rng.next(below: 24)),
                                         mc: 1 + Int(rng.next(below: 20)),
                                         nc: 1 + Int(rng.next(below: 40)))
            let threads = 1 + Int(rng.next(below: 3))
            let expected = problem.reference()
            let got = problem.fast(threads: threads, blocking: blocking)
            let diff = Self.firstDifference(got, expected)
            #expect(diff == nil, "trial \(trial): \(problem) threads=\(threads) \(blocking) at \(diff ?? -1)")
        }
    }

    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func everyTransposeAccumulateAndThreadCount(transposeA: Bool, transposeB: Bool) {
        var rng = CounterRNG(key: 0x7A_0001 + (transposeA ? 2 : 0) + (transposeB ? 1 : 0))
        for accumulate in [false, true] {
            let problem = Problem(m: 19, n: 37, k: 29, transposeA: transposeA, transposeB: transposeB,
                                  accumulate: accumulate, padding: 3, rng: &rng)
            let expected = problem.reference()
            for threads in [1, 2, 3] {
                let got = problem.fastPublic(threads: threads)
                #expect(Self.firstDifference(got, expected) == nil, "\(problem) threads=\(threads)")
            }
        }
    }

    /// Shapes that steer through each path of the blocked kernel, by name.
    static let pathShapes: [(path: String, m: Int, n: Int, k: Int)] = [
        ("narrow output computed as its transpose", 48, 10, 20),
        ("one-column output", 40, 1, 9),
        ("B read in place (few row tiles)", 7, 40, 19),
        ("B packed without transpose", 20, 35, 13),
        ("8x8 transposes plus remainders", 14, 19, 21),
        ("row tail 6+1 split 4+3", 7, 16, 11),
        ("row tail 6+2 split 4+4", 8, 16, 11),
        ("row tail 6+3 split 5+4", 9, 16, 11),
        ("row tail 6+4 split 5+5", 10, 16, 11),
        ("row tail 5 kept", 11, 16, 11),
        ("full tiles only", 12, 32, 16),
        ("MLP-like: batch rows, many columns", 64, 48, 24),
    ]

    @Test(arguments: pathShapes.indices)
    func everyKernelPathMatchesReference(index: Int) {
        let shape = Self.pathShapes[index]
        var rng = CounterRNG(key: 0xA7A7 + UInt64(index))
        for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
            for accumulate in [false, true] {
                let problem = Problem(m: shape.m, n: shape.n, k: shape.k, transposeA: transposeA,
                                      transposeB: transposeB, accumulate: accumulate, padding: 2, rng: &rng)
                let expected = problem.reference()
                for (threads, blocking) in [(1, GEMM.Blocking.standard), (3, GEMM.Blocking(kc: 5, mc: 7, nc: 17))] {
                    let diff = Self.firstDifference(problem.fast(threads: threads, blocking: blocking), expected)
                    #expect(diff == nil, "\(shape.path): \(problem) threads=\(threads) at \(diff ?? -1)")
                }
            }
        }
    }

    /// Computing Cᵀ = op(B)ᵀ·op(A)ᵀ (as `Blocking.forward` does for every layer's forward product)
    /// or C directly gives the same bits, on shapes either choice would not make by itself.
    @Test func transposedProductMatchesReference() {
        var rng = CounterRNG(key: 0x7_2A45)
        for (m, n, k) in [(64, 48, 70), (13, 40, 9), (30, 17, 33), (64, 10, 20)] {
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                let problem = Problem(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                      accumulate: rng.next(below: 2) == 1, padding: 1, rng: &rng)
                let expected = problem.reference()
                for forced in [true, false] {
                    for threads in [1, 3] {
                        var blocking = GEMM.Blocking.forward
                        blocking.transposedProduct = forced
                        let diff = Self.firstDifference(problem.fast(threads: threads, blocking: blocking), expected)
                        #expect(diff == nil, "\(problem) transposed=\(forced) threads=\(threads) at \(diff ?? -1)")
                    }
                }
            }
        }
    }

    /// A 10-column C goes through `GEMM.tenColumns` (eight rows per tile, columns 8…9 of four rows
    /// per vector): every row tail 1…7, every transpose, accumulating or not, a scale on the
    /// store, 1 and 3 threads, and padded leading dimensions give the oracle's bits, and the
    /// blocked kernel (`tenColumnKernel = false`) gives the same.
    @Test func tenColumnKernelMatchesReference() {
        var rng = CounterRNG(key: 0x10C0_1005)
        for m in [1, 3, 4, 5, 8, 9, 15, 64, 67] {
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                let k = [1, 7, 8, 29, 256][Int(rng.next(below: 5))]
                let problem = Problem(m: m, n: 10, k: k, transposeA: transposeA, transposeB: transposeB,
                                      accumulate: rng.next(below: 2) == 1, padding: Int(rng.next(below: 3)),
                                      rng: &rng)
                let scale: Float = rng.next(below: 2) == 0 ? 1 : 1 / 64
                var expected = problem.c
                GEMM.reference(m: m, n: 10, k: k, a: problem.a, lda: problem.lda, transposeA: transposeA,
                               b: problem.b, ldb: problem.ldb, transposeB: transposeB, c: &expected,
                               ldc: problem.ldc, accumulate: problem.accumulate, scale: scale)
                for tenColumns in [true, false] {
                    for threads in [1, 3] {
                        var blocking = GEMM.Blocking.forward
                        blocking.tenColumnKernel = tenColumns
                        var got = problem.c
                        GEMM.multiply(m: m, n: 10, k: k, a: problem.a, lda: problem.lda, transposeA: transposeA,
                                      b: problem.b, ldb: problem.ldb, transposeB: transposeB, c: &got,
                                      ldc: problem.ldc, accumulate: problem.accumulate, scale: scale,
                                      threads: threads, blocking: blocking)
                        let diff = Self.firstDifference(got, expected)
                        #expect(diff == nil, "\(problem) scale=\(scale) tenColumns=\(tenColumns) threads=\(threads) at \(diff ?? -1)")
                    }
                }
            }
        }
    }

    /// The C intrinsic ten-column kernel (CKernels, built when KYMO_TARGET_CPU enables AVX2/FMA)
    /// and the pure-Swift one give identical bits, and both the oracle's: row counts that are
    /// not multiples of 4 or 8, depths around its four-depth step, every transpose, accumulating
    /// or not, a scale on the store, padded leading dimensions (the padding of C must survive).
    @Test(.enabled(if: GEMM.tenColumnIntrinsicsAvailable))
    func tenColumnIntrinsicsMatchSwiftKernel() {
        var rng = CounterRNG(key: 0xC_4E2E)
        var compared = 0
        for m in [1, 2, 3, 5, 6, 7, 9, 11, 13, 17, 30, 63, 67] {
            for k in [1, 2, 3, 4, 5, 7, 9, 17, 256] {
                for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                    let problem = Problem(m: m, n: 10, k: k, transposeA: transposeA, transposeB: transposeB,
                                          accumulate: rng.next(below: 2) == 1,
                                          padding: Int(rng.next(below: 3)), rng: &rng)
                    let scale: Float = rng.next(below: 2) == 0 ? 1 : 1 / 64
                    var expected = problem.c
                    GEMM.reference(m: m, n: 10, k: k, a: problem.a, lda: problem.lda, transposeA: transposeA,
                                   b: problem.b, ldb: problem.ldb, transposeB: transposeB, c: &expected,
                                   ldc: problem.ldc, accumulate: problem.accumulate, scale: scale)
                    func run(intrinsics: Bool) -> [Float] {
                        var result = problem.c
                        problem.a.withUnsafeBufferPointer { a in
                            problem.b.withUnsafeBufferPointer { b in
                                result.withUnsafeMutableBufferPointer { c in
                                    let o = GEMM.Operands(a: a.baseAddress!, lda: problem.lda, transposeA: transposeA,
                                                          b: b.baseAddress!, ldb: problem.ldb, transposeB: transposeB,
                                                          c: c.baseAddress!, ldc: problem.ldc)
                                    if intrinsics {
                                        GEMM.tenColumnsIntrinsics(m: m, k: k, o, accumulate: problem.accumulate, scale: scale)
                                    } else {
                                        GEMM.tenColumnsSwift(m: m, k: k, o, accumulate: problem.accumulate, scale: scale)
                                    }
                                }
                            }
                        }
                        return result
                    }
                    let swift = run(intrinsics: false), intrinsics = run(intrinsics: true)
                    let diff = Self.firstDifference(intrinsics, swift)
                    #expect(diff == nil, "\(problem) scale=\(scale): C kernel != Swift kernel at \(diff ?? -1)")
                    let oracle = Self.firstDifference(intrinsics, expected)
                    #expect(oracle == nil, "\(problem) scale=\(scale): C kernel != reference at \(oracle ?? -1)")
                    compared += 1
                }
            }
        }
        #expect(compared == 13 * 9 * 4)
    }

    /// Depths up to 16 with untransposed operands go through the C small-depth kernel (4×24
    /// tiles; 16-, 8- and masked column tails; row tails 1…3): it gives the oracle's bits and
    /// the blocked kernel's (`smallDepthKernel = false`), accumulating or not, with a scale,
    /// padded leading dimensions (C's padding must survive), on 1 and 3 threads.
    @Test(.enabled(if: GEMM.smallDepthIntrinsicsAvailable))
    func smallDepthIntrinsicsMatchBlockedKernel() {
        var rng = CounterRNG(key: 0x5_DE97)
        var compared = 0
        for m in [1, 2, 3, 4, 5, 7, 13, 64, 66] {
            for n in [1, 7, 8, 10, 17, 24, 25, 40, 47, 49, 256, 259] {
                let k = [1, 2, 3, 10, 16][Int(rng.next(below: 5))]
                let problem = Problem(m: m, n: n, k: k, transposeA: false, transposeB: false,
                                      accumulate: rng.next(below: 2) == 1,
                                      padding: Int(rng.next(below: 3)), rng: &rng)
                let scale: Float = rng.next(below: 2) == 0 ? 1 : 1 / 64
                var expected = problem.c
                GEMM.reference(m: m, n: n, k: k, a: problem.a, lda: problem.lda, b: problem.b, ldb: problem.ldb,
                               c: &expected, ldc: problem.ldc, accumulate: problem.accumulate, scale: scale)
                for smallDepth in [true, false] {
                    for threads in [1, 3] {
                        var blocking = GEMM.Blocking.standard
                        blocking.smallDepthKernel = smallDepth
                        blocking.tenColumnKernel = false
                        var got = problem.c
                        GEMM.multiply(m: m, n: n, k: k, a: problem.a, lda: problem.lda, transposeA: false,
                                      b: problem.b, ldb: problem.ldb, transposeB: false, c: &got,
                                      ldc: problem.ldc, accumulate: problem.accumulate, scale: scale,
                                      threads: threads, blocking: blocking)
                        let diff = Self.firstDifference(got, expected)
                        #expect(diff == nil, "\(problem) scale=\(scale) smallDepth=\(smallDepth) threads=\(threads) at \(diff ?? -1)")
                        compared += 1
                    }
                }
            }
        }
        #expect(compared == 9 * 12 * 4)
    }

    @Test func blockSizesDoNotChangeBits() {
        var rng = CounterRNG(key: 0xB10C)
        let problem = Problem(m: 25, n: 41, k: 67, transposeA: false, transposeB: true,
                              accumulate: true, padding: 1, rng: &rng)
        let expected = problem.reference()
        let blockings = [GEMM.Blocking(kc: 1, mc: 1, nc: 1), GEMM.Blocking(kc: 7, mc: 6, nc: 16),
                         GEMM.Blocking(kc: 16, mc: 13, nc: 17), GEMM.Blocking(kc: 66, mc: 24, nc: 32),
                         GEMM.Blocking(kc: 67, mc: 25, nc: 41), GEMM.Blocking(kc: 1000, mc: 1000, nc: 1000),
                         .standard]
        for blocking in blockings {
            for threads in [1, 2, 3] {
                let got = problem.fast(threads: threads, blocking: blocking)
                #expect(Self.firstDifference(got, expected) == nil, "\(blocking) threads=\(threads)")
            }
        }
    }

    @Test func paddingOfCIsNeverTouched() {
        var rng = CounterRNG(key: 0x5E47)
        var problem = Problem(m: 13, n: 21, k: 9, transposeA: true, transposeB: false,
                              accumulate: false, padding: 3, rng: &rng)
        let sentinel = Float(bitPattern: 0x7FC0_1234)  // a NaN with a payload
        for i in 0..<problem.m { for j in problem.n..<problem.ldc { problem.c[i * problem.ldc + j] = sentinel } }
        let got = problem.fast(threads: 2, blocking: GEMM.Blocking(kc: 4, mc: 6, nc: 16))
        for i in 0..<problem.m {
            for j in problem.n..<problem.ldc {
                #expect(got[i * problem.ldc + j].bitPattern == sentinel.bitPattern, "C[\(i), \(j)]")
            }
        }
        #expect(Self.firstDifference(got, problem.reference()) == nil)
    }

    @Test func zeroDepthGivesZerosOrKeepsC() {
        var rng = CounterRNG(key: 0x2E40)
        for accumulate in [false, true] {
            let problem = Problem(m: 7, n: 18, k: 0, transposeA: false, transposeB: false,
                                  accumulate: accumulate, padding: 2, rng: &rng)
            let got = problem.fastPublic(threads: 1)
            #expect(Self.firstDifference(got, problem.reference()) == nil, "\(problem)")
            if !accumulate { #expect(got[0] == 0 && got[17] == 0) }
        }
    }

    /// The comparison is sensitive: summing the same products in another order changes bits,
    /// so a kernel that split or reordered k would be caught.
    @Test func reorderedChainIsDetected() {
        var rng = CounterRNG(key: 0x0DE5)
        let problem = Problem(m: 6, n: 16, k: 64, transposeA: false, transposeB: false,
                              accumulate: false, padding: 0, rng: &rng)
        let expected = problem.reference()
        var differing = 0
        for i in 0..<problem.m {
            for j in 0..<problem.n {
                var even: Float = 0, odd: Float = 0
                for p in 0..<problem.k {
                    let x = problem.a[i * problem.lda + p], y = problem.b[p * problem.ldb + j]
                    if p % 2 == 0 { even.addProduct(x, y) } else { odd.addProduct(x, y) }
                }
                if (even + odd).bitPattern != expected[i * problem.ldc + j].bitPattern { differing += 1 }
            }
        }
        #expect(differing > 0)
        #expect(Self.firstDifference(problem.fast(threads: 1), expected) == nil)
    }
}
