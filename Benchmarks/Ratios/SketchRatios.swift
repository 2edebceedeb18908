import Foundation
import KymoSketches

/// ns per update of every sketch, measured in one run, beside the peer figures of issue 3
/// (Apache DataSketches C++ and a plain C loop, measured on this machine with g++ -O3
/// -march=native) and an in-run plain Swift count-min loop.
func sketchRatios() throws {
    let n = 1 << 20
    let uniform = SketchBenchmarkInputs.uniformKeys(count: n, seed: 1)
    let zipf = SketchBenchmarkInputs.zipfKeys(count: n, universe: 1 << 20, exponent: 1.1, seed: 2)
    let weights = SketchBenchmarkInputs.uniformFloats(count: n, in: 0.5, 1.5, seed: 3)
    let doubles = weights.map { Double($0) }
    let gradients = SketchBenchmarkInputs.gradientLike(count: n, seed: 4)
    var sink: UInt64 = 0

    func report(_ name: String, _ index: Int, items: Int, target: Double?, peer: String) {
        let ns = allMedians[index] * 1e9 / Double(items)
        let cpu = cpuMedians[index] * 1e9 / Double(items)
        let verdict = target.map { cpu <= $0 ? String(format: "≤ %4.1f ok  ", $0) : String(format: "≤ %4.1f OVER", $0) } ?? "            "
        print(name.padding(toLength: 44, withPad: " ", startingAt: 0)
              + String(format: "%7.2f %7.2f   %@   %@", ns, cpu, verdict, peer))
    }

    var cm = try CountMinSketch(width: 1 << 16, depth: 4, seed: 7)
    var cmBulk = try CountMinSketch(width: 1 << 16, depth: 4, seed: 7)
    var ss = try SpaceSavingSketch(capacity: 256, seed: 7)
    var ssOffer = try SpaceSavingSketch(capacity: 256, seed: 7)
    var quant = try MagnitudeQuantiles(precisionBits: 6)
    var quantBulk = try MagnitudeQuantiles(precisionBits: 6)
    var ps = try PrioritySample(capacity: 1024, seed: 7)
    var res = try UniformReservoir(capacity: 1024, seed: 7)
    var resBulk = try UniformReservoir(capacity: 1024, seed: 7)
    var traj = try QuantizedTrajectory(weightCount: n, blockSize: 64, codeBits: 8, quantum: 1e-4)
    traj.append(gradients)
    let nextStep = zip(gradients, weights).map { $0 + ($1 - 1) * 1e-3 }

    // Prefill the summaries so that the timed passes measure the steady state.
    for k in zipf.prefix(1 << 16) { ss.update(k, weight: 1); ssOffer.update(k, weight: 1) }
    // Weights far below the admission threshold: every offer is rejected.
    let tiny = doubles.map { $0 * 1e-9 }

    // Each pass takes its sketch inout once, so the loop runs on a plain local (no per-update
    // exclusivity check on a captured variable).
    func cmLoop(_ s: inout CountMinSketch) { for i in 0..<n { s.update(uniform[i], weight: weights[i]) } }
    func ssLoop(_ s: inout SpaceSavingSketch) { for i in 0..<n { s.update(zipf[i], weight: doubles[i]) } }
    func ssOfferLoop(_ s: inout SpaceSavingSketch) { for i in 0..<n { s.offer(zipf[i], weight: tiny[i]) } }
    func quantLoop(_ s: inout MagnitudeQuantiles) { for g in gradients { s.update(g) } }
    func psLoop(_ s: inout PrioritySample) { for i in 0..<n { s.update(uniform[i], weight: doubles[i], value: doubles[i]) } }
    func resLoop(_ s: inout UniformReservoir) { for k in uniform { s.update(k) } }
    func csLoop(_ s: inout CountSketch) { for i in 0..<n { s.update(uniform[i], value: doubles[i]) } }
    var cs = try CountSketch(width: 1 << 12, depth: 5, seed: 7)

    var plainTable = [Float](repeating: 0, count: 4 << 16)
    let contenders: [() -> Void] = [
        // In-run peer: the same count-min update as a bare loop over a local table.
        { SketchBenchmarkInputs.bareCountMinPass(uniform, weights, table: &plainTable) },
        { sink ^= SketchHash.hashAll(uniform, seed: 42) },
        { cmLoop(&cm) },
        { cmBulk.update(uniform, weights: weights) },
        { ssLoop(&ss) },
        { ssOfferLoop(&ssOffer) },
        { quantLoop(&quant) },
        { quantBulk.update(gradients) },
        { psLoop(&ps) },
        { resLoop(&res) },
        { resBulk.update(uniform) },
        { traj.append(nextStep) },
        { csLoop(&cs) },
    ]
    let allMedians = Stopwatch.interleavedMedians(rounds: 5, contenders)
    // The machine is shared: also the median thread CPU time of the same passes, which excludes
    // time spent descheduled (cache sharing with other processes still shows).
    let cpuMedians = Stopwatch.threadCPUMedians(rounds: 5, contenders)
    print("sketches: \(n) updates per pass, medians of 5 interleaved passes (release); ns/update wall, thread-CPU")
    report("peer: bare count-min loop, same hashes", 0, items: n, target: nil, peer: "plain C loop 6.6")
    report("XXH3 of an 8-byte key", 1, items: n, target: 2, peer: "inlined XXH3 ~1, libxxhash call 5-7")
    report("count-min 4x2^16, update(_:weight:)", 2, items: n, target: 8, peer: "DataSketches 41-84, C loop 6.6")
    report("count-min 4x2^16, bulk update", 3, items: n, target: 8, peer: "DataSketches 41-84, C loop 6.6")
    report("Space-Saving k=256 Zipf(1.1), update", 4, items: n, target: 45, peer: "DataSketches frequent items 43-55")
    report("Space-Saving k=256, offer rejected", 5, items: n, target: 5, peer: "-")
    report("quantiles (DDSketch m=6), update(_:)", 6, items: n, target: 33, peer: "KLL k=200: 33")
    report("quantiles (DDSketch m=6), bulk update", 7, items: n, target: 33, peer: "KLL k=200: 33")
    report("priority sample k=1024, update", 8, items: n, target: 25, peer: "var_opt k=1024: 25")
    report("uniform reservoir k=1024, update(_:)", 9, items: n, target: 10, peer: "DataSketches reservoir 24.5")
    report("uniform reservoir k=1024, bulk with skips", 10, items: n, target: 10, peer: "DataSketches reservoir 24.5")
    report("trajectory 8-bit, per weight per step", 11, items: n, target: nil, peer: "-")
    report("count sketch 5x2^12, update", 12, items: n, target: nil, peer: "-")
    if sink == 42 { print(cm.totalWeight, cmBulk.totalWeight, ss.totalWeight, ssOffer.rejectedWeight, quant.count,
                          quantBulk.count, ps.count, res.count, resBulk.count, traj.stepCount) }
    print("  (Space-Saving offer pass: \(String(format: "%.0f", ssOffer.rejectedWeight / 1e-9)) units of weight rejected)")
}
