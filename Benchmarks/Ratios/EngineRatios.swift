import KymoEngine

/// Cost of collecting the per-sample factors (the recorder's StepObserver interface) on top of
/// plain training, seed-scale MLP 784-512-256-10, batch 64, SGD, one thread. Target: ≤ 1.10.
///
/// Full steps with and without the observer are timed interleaved; because the difference is
/// small against a noisy shared machine, the observer's own work is also timed alone (many
/// repetitions) and set against the plain step, and against a 3 ms step (the step time at which
/// an epoch of 100,000 samples takes 4.9 s, i.e. 1.5× faster than the 7.4 s the issue quotes for
/// PyTorch). The PyTorch ratio proper is measured side by side by `scripts/bench-vs-pytorch`.
/// It also prints the fraction of exact zeros in each layer's δ and input, what the
/// zero-skipping weight gradients (`GEMM.multiplySkippingZeros`) can leave out.
func engineRatios() throws {
    let steps = 20
    let plain = try TrainingBenchmark(layers: "784,512,256,10", samples: 4096, collectFactors: false)
    let observed = try TrainingBenchmark(layers: "784,512,256,10", samples: 4096, collectFactors: true)
    let recorderLike = try TrainingBenchmark(layers: "784,512,256,10", samples: 4096, collectFactors: true,
                                             recorderLike: true)
    try plain.run(steps: 2)
    try observed.run(steps: 2)
    try recorderLike.run(steps: 2)
    let medians = Stopwatch.interleavedMedians(rounds: 5, [
        { _ = try? plain.run(steps: steps) },
        { _ = try? observed.run(steps: steps) },
        { _ = try? recorderLike.run(steps: steps) },
    ])
    let plainStep = medians[0] / Double(steps)
    let observedStep = medians[1] / Double(steps)
    let recorderLikeStep = medians[2] / Double(steps)
    let repetitions = 200
    let collect = Stopwatch.interleavedMedians(rounds: 5, [{ observed.collectFactorsOnly(times: repetitions) }])[0] / Double(repetitions)
    print("step 784-512-256-10, B=64, 1 thread: plain \(plainStep * 1e3) ms, with factor observer \(observedStep * 1e3) ms")
    print("full-step ratio observed/plain: \(observedStep / plainStep) (target ≤ 1.10; noisy; observer asks for the full pre-update snapshot)")
    print("full-step ratio recorder-like observer/plain: \(recorderLikeStep / plainStep) (16 lent g/Δw buffer pairs in turn, streamed; 1,000 pre-update ids)")
    print("factor collection alone (without the Δw store): \(collect * 1e3) ms/step → ratio \((plainStep + collect) / plainStep) at this step time, \((3e-3 + collect) / 3e-3) at a 3 ms step")
    let zeros = try plain.zeroFractions(steps: 200)
    func percents(_ x: [Double]) -> String { x.map { String(format: "%.1f %%", 100 * $0) }.joined(separator: ", ") }
    print("exact zeros over the first 200 steps, fc1…fc3: δ \(percents(zeros.delta)); input a \(percents(zeros.input))")
    let epochSeconds = plainStep * Double((100_000 + 63) / 64)
    print("projected plain epoch, 100,000 samples: \(epochSeconds) s; vs the issue's PyTorch 7.4 s: \(7.4 / epochSeconds)× "
        + "(target ≥ 1.5; scripts/bench-vs-pytorch measures PyTorch beside it)")
}
