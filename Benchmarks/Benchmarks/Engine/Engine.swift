import Benchmark
import COpenBLAS
import KymoEngine

// Engine suite: `swift package --allow-writing-to-package-directory benchmark --target EngineBenchmarks`.
// One function per group; training benchmarks join as another call.
let benchmarks: @Sendable () -> Void = {
    gemmBenchmarks()
}

/// The seed MLP's GEMMs (784-512-256-10, batch 64, weights stored (out, in)): forward
/// y = x·Wᵀ, weight gradient dW = δᵀ·x, input gradient dx = δ·W, for each layer; ours and
/// single-threaded OpenBLAS side by side. (kymo-ratios gemm prints the interleaved ratios.)
func gemmBenchmarks() {
    openblas_set_num_threads(1)
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput], warmupIterations: 10, maxDuration: .seconds(1))
    for (inputs, outputs) in [(784, 512), (512, 256), (256, 10)] {
        let problems: [(name: String, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool)] = [
            ("fwd \(inputs)->\(outputs)", 64, outputs, inputs, false, true),
            ("dW \(outputs)x\(inputs)", outputs, inputs, 64, true, false),
            ("dx \(outputs)->\(inputs)", 64, inputs, outputs, false, false),
        ]
        for p in problems {
            let a = values(p.m * p.k, salt: 1), b = values(p.k * p.n, salt: 2)
            let lda = p.transposeA ? p.m : p.k, ldb = p.transposeB ? p.k : p.n
            Benchmark("GEMM \(p.name)", configuration: configuration) { benchmark in
                var c = [Float](repeating: 0, count: p.m * p.n)
                for _ in benchmark.scaledIterations {
                    GEMM.multiply(m: p.m, n: p.n, k: p.k, a: a, lda: lda, transposeA: p.transposeA,
                                  b: b, ldb: ldb, transposeB: p.transposeB, c: &c, ldc: p.n)
                }
                blackHole(c)
            }
            Benchmark("OpenBLAS \(p.name)", configuration: configuration) { benchmark in
                var c = [Float](repeating: 0, count: p.m * p.n)
                for _ in benchmark.scaledIterations {
                    cblas_sgemm(CblasRowMajor, p.transposeA ? CblasTrans : CblasNoTrans,
                                p.transposeB ? CblasTrans : CblasNoTrans, Int32(p.m), Int32(p.n), Int32(p.k),
                                1, a, Int32(lda), b, Int32(ldb), 0, &c, Int32(p.n))
                }
                blackHole(c)
            }
        }
    }
}

/// Deterministic, irregular operand values in [-1, 1) (a fixed formula, not a random generator).
func values(_ count: Int, salt: Int) -> [Float] {
    (0..<count).map { (i: Int) -> Float in
        let h: Int = (i &* 2_654_435_761 &+ salt &* 40_503) & 0xFFFF
        return Float(h) / 32768 - 1
    }
}
