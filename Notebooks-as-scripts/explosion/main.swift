// Study "explosion": a run driven to diverge by a learning rate that is too high. Which samples
// did the model see last before more than 10 % of its gradients grew large (question 4)?
//
// The run is recorded until its loss becomes non-finite (the recorder then commits the good
// prefix, writes a checkpoint of the last good state and marks the run diverged). The question
// is asked three ways, as a researcher would:
//   1. `kymo query`: LAST K SAMPLES BEFORE FRACTION ABS GRADIENT > θ EXCEEDS 10%
//      (answered from T0: the exact counts above the recorded thresholds and the |g| sketches);
//   2. T0 directly: the recorded counts `t0/above` and per-sample losses and norms;
//   3. replay (exact): the run is re-executed from its checkpoints bit for bit, counting
//      |g| > θ at every step, and naming the batches' samples and losses.
//
//   swift run -c release study-explosion [--out DIR] [--lr X] [--k K] [--mnist DIR]

import Foundation
import KymoEngine
import KymoQuery
import KymoRecorder
import KymoReplay
import KymoReport
import KymoStore
import StudySupport

var mnistDir = "../shared/data/mnist"
var learningRate: Float = 0.05
var k = 16
var schedule = "step:60:2"
var activation = "relu"
var momentum: Float = 0.9
var layers = "784,256,128,10"
let study = Study(name: "study-explosion", outDir: "out/explosion", usage: "usage: study-explosion [--out DIR] [--lr X] [--k K] [--mnist DIR]") { flag, next in
    switch flag {
    case "--mnist": mnistDir = next() ?? mnistDir
    case "--lr": learningRate = Float(next() ?? "") ?? learningRate
    case "--k": k = Int(next() ?? "") ?? k
    case "--schedule": schedule = next() ?? schedule
    case "--activation": activation = next() ?? activation
    case "--layers": layers = next() ?? layers
    case "--momentum": momentum = Float(next() ?? "") ?? momentum
    default: return false
    }
    return true
}
let outDir = study.outDir

// MARK: - Record a run until it diverges

try study.freshOutput()
let mnistAbsolute = URL(fileURLWithPath: mnistDir).standardizedFileURL.path
var config = TrainingConfig(model: try ModelSpec(layers: layers, activation: Activation(rawValue: activation) ?? .tanh))
config.data = "idx:\(mnistAbsolute)"
config.optimizer.kind = .momentum
config.optimizer.learningRate = learningRate
config.optimizer.momentum = momentum
config.schedule = try LearningRateSchedule(parsing: schedule)
config.batchSize = 64
config.epochs = 1
config.seed = 1
config.probeFraction = 0.1
let session = try TrainingSession(config: config)
let lab = try Lab(path: study.labPath)
var options = RecordingOptions()
options.budget = .bytesPerEpoch(64_000_000)
options.budgetText = "64MB"
options.commitEverySteps = 25
let runName = "lr-\(learningRate)"
let recording = try Recording(session: session, lab: lab, runName: runName, options: options)
print("MNIST \(session.trainer.training.count) training images; MLP \(layers.replacingOccurrences(of: ",", with: "-")) \(activation), momentum \(momentum), lr \(learningRate) schedule \(schedule), B 64")
print("recorded thresholds θ (snapped): \(recording.manifest.thresholds.map { e(Double($0)) }.joined(separator: " "))")
var divergedAt: Int?
var losses = [Float]()
do {
    while !recording.trainer.isFinished {
        let s = try recording.step()
        losses.append(s.loss)
    }
    _ = try recording.finish(interrupted: false)
} catch RecorderError.diverged(let step, let message) {
    divergedAt = step
    print("diverged at step \(step) (0-based): \(message)")
}
if divergedAt == nil { print("the loss stayed finite for the whole epoch") }
print("batch loss every 50 steps: " + stride(from: 0, to: losses.count, by: 50).map { f(Double(losses[$0]), 3) }.joined(separator: " "))
print("recorded \(losses.count) good steps in \(f(study.elapsed(), 1)) s")

// MARK: - Replay (exact): |g| > θ counted at every step for a grid of θ

let reader = try Lab(existing: study.labPath).openRun(runName)
let goodSteps = reader.committedSteps.upperBound
let recorded = recording.manifest.thresholds
let grid: [Float] = [1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1, 2e-1, 5e-1, 1]
// The output layer: the one whose gradients keep growing when the run blows up (ReLU units of the
// hidden layers die and their gradients vanish).
let layer = session.trainer.layout.layers.last!
let replayer = try study.replayer(run: runName)
var request = ReplayRequest(steps: 0..<goodSteps)
request.gradientThresholds = recorded
request.gradientIDs = Array(layer.range)
request.losses = true
let replayStart = study.clock.now
let replay = try replayer.replay(request)
print("\nreplayed steps 1...\(goodSteps) in \(f(study.elapsed(since: replayStart), 2)) s (\(replay.segments.count) segments; checkpoint hashes reproduced at steps \(replay.verifiedCheckpoints))")
let p = Double(session.trainer.layout.count)
// T0's exact counts at the recorded thresholds against the replay's.
var above = [[UInt32]]()
if case .uint32(let counts) = try reader.read(column: "t0/above", steps: 0..<goodSteps) {
    above = stride(from: 0, to: counts.count, by: recorded.count).map { Array(counts[$0..<$0 + recorded.count]) }
}
var agree = 0
for c in replay.gradientCounts where c.step < above.count && c.counts.prefix(recorded.count).map(UInt32.init) == above[c.step] { agree += 1 }
print("T0's recorded counts |g| > θ_k (8 thresholds) equal the replay's at \(agree) of \(replay.gradientCounts.count) steps")
let layerCounts: [[Int]] = replay.gradients.map { g in grid.map { theta in g.values.reduce(0) { $0 + (abs($1) > theta ? 1 : 0) } } }
@MainActor func fraction(_ i: Int, _ t: Int) -> Double { Double(layerCounts[t][i]) / Double(layer.range.count) }

print("\nFraction of \(layer.name)'s \(layer.range.count) parameters with |g| > θ (replay, exact), every 50 steps, then each of the last 30:")
print("  step | lr     | loss     | " + grid.map { pad(e(Double($0)), 9) }.joined(separator: " | "))
for t in Array(stride(from: 0, to: goodSteps - 30, by: 50)) + Array(max(0, goodSteps - 30)..<goodSteps) {
    let l = replay.losses[t]
    var lr: Float = .nan
    if case .float32(let v) = try reader.read(column: "t0/lr", steps: t..<t + 1) { lr = v[0] }
    print("  \(pad("\(t + 1)", 4)) | \(f(Double(lr), 4)) | \(pad(f(Double(l.loss), 3), 8)) | " + grid.indices.map { pad(f(100 * fraction($0, t), 2) + "%", 9) }.joined(separator: " | "))
}
// θ: the smallest grid value whose fraction stayed at or under 10 % from step 1 until the last
// 50 steps and exceeded it later — the earliest warning a fixed threshold gives (smaller θ are
// above 10 % at initialization already, when every gradient is large).
let quiet = max(1, goodSteps - 50)
let chosen = grid.indices.first { i in
    (0..<quiet).allSatisfy { fraction(i, $0) <= 0.10 } && (quiet..<goodSteps).contains { fraction(i, $0) > 0.10 }
}
guard let thetaIndex = chosen else { study.fail("no θ of the grid is quiet for 100 steps and then exceeds 10 %: the run did not blow up") }
let theta = grid[thetaIndex]
guard let eventStep = (0..<goodSteps).first(where: { fraction(thetaIndex, $0) > 0.10 }) else { study.fail("no event") }
print("\nθ = \(e(Double(theta))): more than 10 % of \(layer.name)'s parameters have |g| > θ first at step \(eventStep + 1) (replay, exact)\(divergedAt.map { "; the loss became non-finite at step \($0 + 1)" } ?? "")")

// MARK: - The query (T0 and its |g| sketches, no replay)

let text = "LAST \(k) SAMPLES BEFORE FRACTION ABS GRADIENT > \(theta) IN \(layer.name) EXCEEDS 10%"
var querySamples: [Int] = []
do {
    let query = try study.querySession(defaultRun: runName)
    let t0 = study.clock.now
    let execution = try query.execute(text)
    print("(answered in \(f(study.elapsed(since: t0), 2)) s)")
    if let si = execution.answer.columns.firstIndex(where: { $0.name == "sample" }) {
        for row in execution.answer.rows { if case .integer(let x) = row[si] { querySamples.append(x) } }
    }
    print("\nkymo query '\(text)' --explain:")
    print(execution.plans.map { $0.explained() }.joined(separator: "\n"))
    print(AnswerRenderer.table(execution.answer))
} catch let error as QueryError {
    print("\nkymo query '\(text)' failed:\n\(error.rendered(in: text))")
} catch {
    print("\nkymo query '\(text)' failed: \(error)")
}

// The event step's own batch counts: its samples produced the gradient that crossed (the
// convention of `kymo query`'s LAST … BEFORE, which `lastSamples(atOrBefore:)` shares).
let last = replay.lastSamples(atOrBefore: eventStep, k: k)
let lossByStep = Dictionary(uniqueKeysWithValues: replay.losses.map { ($0.step, $0) })
let training = replayer.training
print("\nThe last \(k) samples up to step \(eventStep + 1) (its batch included), most recent first (losses from replay, ‖g_s‖ from T0):")
print("  step | sample | label | loss at that step | ‖g_s‖₂ | batch loss | batch fraction |g|>θ")
var images = [GrayImage]()
for (step, sample) in last {
    guard let entry = lossByStep[step], let j = entry.sampleIDs.firstIndex(of: sample) else { continue }
    var norm = Float.nan
    if case .float32(let g) = try reader.read(column: "t0/sample/gnorm", steps: step..<step + 1), j < g.count { norm = g[j] }
    let label = Int(training.labels[sample])
    let fraction = fraction(thetaIndex, step)
    print("  \(pad("\(step + 1)", 4)) | \(pad("\(sample)", 6)) | \(pad("\(label)", 5)) | \(pad(f(Double(entry.sampleLosses[j])), 17)) | \(pad(f(Double(norm), 3), 6)) | \(pad(f(Double(entry.loss)), 10)) | \(f(100 * fraction, 2)) %")
    let pixels = Array(training.features[sample * 784..<(sample + 1) * 784])
    images.append(GrayImage(width: 28, height: 28, pixels: pixels, caption: ["#\(sample) label \(label)", "step \(step + 1)", "loss \(String(format: "%.3g", Double(entry.sampleLosses[j])))", "‖g‖ \(String(format: "%.3g", Double(norm)))"]))
}

if !querySamples.isEmpty { print("the query's \(querySamples.count) samples are the same, in the same order: \(querySamples == last.map(\.sample) ? "yes" : "NO")") }
// Per-step summary around the event.
print("\nAround the event (T0 loss and ‖g‖, replay fractions):")
print("  step | batch loss | ‖g‖₂    | |g|>θ")
for t in max(0, eventStep - 6)...min(goodSteps - 1, eventStep + 3) {
    var gn: Float = .nan
    if case .float32(let v) = try reader.read(column: "t0/gnorm", steps: t..<t + 1) { gn = v[0] }
    print("  \(pad("\(t + 1)", 4)) | \(pad(f(Double(replay.losses[t].loss)), 10)) | \(pad(f(Double(gn), 3), 7)) | \(f(100 * fraction(thetaIndex, t), 2)) %" + (t == eventStep ? "  ← event" : ""))
}

// MARK: - Pictures

let steps = Array(1...goodSteps)
var series = [Series]()
for i in grid.indices where i % 3 == thetaIndex % 3 || i == thetaIndex {
    series.append(Series(name: "|g| > \(e(Double(grid[i])))\(i == thetaIndex ? " (θ)" : "")", steps: steps,
                         values: (0..<goodSteps).map { fraction(i, $0) }, dashed: i != thetaIndex))
}
let fractionChart = LineChart(title: "Fraction of \(layer.name) with |g| > θ, by step (lr ×2 every 60 steps)", xLabel: "step", yLabel: "fraction of \(layer.name)", series: series,
                              annotations: [Annotation(.x, at: Double(eventStep + 1), label: "step \(eventStep + 1)"),
                                            Annotation(.y, at: 0.10, label: "10 %"),
                                           ] + (divergedAt.map { [Annotation(.x, at: Double($0 + 1), label: "loss non-finite")] } ?? []),
                              includeZero: true, width: 640)
study.write(.line(fractionChart), "fraction-above.svg")
var gnorms = [Double]()
if case .float32(let v) = try reader.read(column: "t0/gnorm", steps: 0..<goodSteps) { gnorms = v.map(Double.init) }
let lossChart = LineChart(title: "Batch loss and ‖g‖₂ (T0)", xLabel: "step", yLabel: "value", series: [
    Series(name: "batch loss", steps: steps, values: losses.prefix(goodSteps).map(Double.init)),
    Series(name: "‖g‖₂", steps: steps, values: gnorms, dashed: true),
], annotations: [Annotation(.x, at: Double(eventStep + 1), label: "event")], yScale: .log, width: 640)
study.write(.line(lossChart), "loss.svg")
study.write(.images(ImageGrid(title: "The last \(k) samples up to the event step (most recent first)", images: images, columns: 8)), "last-samples.svg")
study.write(.grid(SmallMultiples([.line(fractionChart), .line(lossChart)], columns: 1)), "explosion.svg")
print("study-explosion: \(f(study.elapsed(), 1)) s")
