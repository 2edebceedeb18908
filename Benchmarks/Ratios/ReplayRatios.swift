import Dispatch
import KymoReplay

/// Replay speed against the original training, seed-scale MLP 784-512-256-10, batch 64, SGD,
/// synthetic data, one GEMM thread per segment.
/// - one segment: replay (with verification and question 1's probe: top samples by contribution
///   to one weight, plus per-step losses) vs plain training of the same steps. Target ≥ 0.9×.
/// - two segments on two workers vs one segment on one: throughput ratio 2·t₁/t₂. Target ≥ 1.7×
///   (needs both cores free; the machine is shared, so this one is at the mercy of the load).
func replayRatios() throws {
    let reference = try ReplayBenchmark.referenceRunHashes().map { "0x" + String($0, radix: 16) }
    print("reference run checkpoint hashes (this build; KymoReplayTests checks its debug build against them):")
    print("  " + reference.joined(separator: ", "))
    let steps = 30
    let bench = try ReplayBenchmark(layers: "784,512,256,10", samples: 4096, segmentSteps: steps, segments: 2)
    try bench.train(segment: 0)
    try bench.replay(segments: 0..<1, parallelism: 1)
    try bench.replay(segments: 0..<1, parallelism: 1, probe: .minimal)
    let rounds = 7
    let one = Stopwatch.interleavedMedians(rounds: rounds, [
        { try? bench.train(segment: 0) },
        { _ = try? bench.replay(segments: 0..<1, parallelism: 1, probe: .question1) },
        { _ = try? bench.replay(segments: 0..<1, parallelism: 1, probe: .none) },
        { _ = try? bench.replay(segments: 0..<1, parallelism: 1, probe: .minimal) },
    ])
    print("one segment of \(steps) steps, 784-512-256-10, B=64, 1 thread (median of \(rounds), interleaved):")
    print("  train \(one[0] / Double(steps) * 1e3) ms/step; replay+verify+Q1 probe \(one[1] / Double(steps) * 1e3) ms/step; replay+verify \(one[2] / Double(steps) * 1e3) ms/step")
    print("  replay+verify+observer with a one-value probe \(one[3] / Double(steps) * 1e3) ms/step (the engine's observer cost)")
    print("  replay throughput / training: \(one[0] / one[1])× with Q1 probe, \(one[0] / one[2])× without, \(one[0] / one[3])× observer only (target ≥ 0.9)")
    // A longer segment amortizes the fixed costs (restore, two state hashes).
    let long = try ReplayBenchmark(layers: "784,512,256,10", samples: 4096, segmentSteps: 3 * steps, segments: 1)
    let longMedians = Stopwatch.interleavedMedians(rounds: 5, [
        { try? long.train(segment: 0) },
        { _ = try? long.replay(segments: 0..<1, parallelism: 1, probe: .none) },
    ])
    print("one segment of \(3 * steps) steps: replay+verify / training throughput \(longMedians[0] / longMedians[1])×")
    let two = Stopwatch.interleavedMedians(rounds: rounds, [
        { _ = try? bench.replay(segments: 0..<1, parallelism: 1, probe: .none) },
        { _ = try? bench.replay(segments: 0..<2, parallelism: 2, probe: .none) },
        { try? bench.train(segment: 0) },
        { DispatchQueue.concurrentPerform(iterations: 2) { try? bench.train(segment: $0) } },
    ])
    print("two segments on 2 workers \(two[1] * 1e3) ms vs one segment on 1 worker \(two[0] * 1e3) ms")
    print("  throughput ratio 2·t1/t2: \(2 * two[0] / two[1])× (target ≥ 1.7; the 2 cores are shared)")
    print("  peer: two plain trainings on 2 threads vs one: \(2 * two[2] / two[3])× (what this machine allows)")
}
