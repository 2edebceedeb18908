// Study "ordering": does the order of the samples change where training ends up?
//
// Two MNIST runs with the *same* initial weights that differ only in the order in which they see
// the training samples (Frankle, Dziugaite, Roy, Carbin, "Linear mode connectivity and the
// lottery ticket hypothesis", ICML 2020: the instability analysis at fork step k = 0).
//
// The engine has one seed per run; under it, independent CounterRNG streams draw the initial
// weights (`stream(initialization)`), the data order (`stream(dataOrder)`) and dropout masks.
// A run resumed from a TrainerState takes its weights from the state and its data order from the
// state's config seed. So run B is run A's initial state (seed 1's weights) with the config seed
// set to 2: same init, same data, same hyper-parameters, a different data-order stream. No
// dropout, so nothing else depends on the seed. The probe split also depends on the seed, so both
// runs use probeFraction 0 (all 60,000 training images) and the study evaluates on MNIST's own
// 10,000 test images instead.
//
// Both runs are recorded into a lab; progress and weight distance come back from the store
// through `kymo query`'s COMPARE (weight distance from the quantized trajectories, with their
// bound, and exactly from the final checkpoints).
//
//   swift run -c release study-ordering [--out DIR] [--epochs N] [--mnist DIR]

import Foundation
import KymoEngine
import KymoQuery
import KymoRecorder
import KymoReport
import KymoStore
import StudySupport

// MARK: - Arguments

var mnistDir = "../shared/data/mnist"
var epochs = 3
var evalEvery = 25
var forkStep = 100
let study = Study(name: "study-ordering", outDir: "out/ordering", usage: "usage: study-ordering [--out DIR] [--epochs N] [--eval-every STEPS] [--fork-step K] [--mnist DIR]") { flag, next in
    switch flag {
    case "--mnist": mnistDir = next() ?? mnistDir
    case "--epochs": epochs = Int(next() ?? "") ?? epochs
    case "--fork-step": forkStep = Int(next() ?? "") ?? forkStep
    case "--eval-every": evalEvery = Int(next() ?? "") ?? evalEvery
    default: return false
    }
    return true
}
let outDir = study.outDir

// MARK: - Data: the training set via idx:, the test set via a directory of links

try study.freshOutput(subdirectory: "t10k")
let mnistAbsolute = URL(fileURLWithPath: mnistDir).standardizedFileURL.path
for (link, target) in [("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"),
                       ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz")] {
    try FileManager.default.createSymbolicLink(atPath: "\(outDir)/t10k/\(link)", withDestinationPath: "\(mnistAbsolute)/\(target)")
}
let test: Dataset
do { test = try DataSource(parsing: "idx:\(outDir)/t10k").load(seed: 1) } catch { study.fail("MNIST test set: \(error)") }

// MARK: - The two runs

var config = TrainingConfig(model: try ModelSpec(layers: "784,128,10"))
config.data = "idx:\(mnistAbsolute)"
config.optimizer.kind = .momentum
config.optimizer.learningRate = 0.05
config.optimizer.momentum = 0.9
config.batchSize = 128
config.epochs = epochs
config.seed = 1
config.probeFraction = 0

let sessionA = try TrainingSession(config: config)
var forked = sessionA.trainer.state
forked.config.seed = 2 // the data-order stream only: the weights stay seed 1's
let forkPath = "\(outDir)/fork-seed2.ckpt"
try forked.write(to: forkPath)
let sessionB = try TrainingSession(resuming: forkPath)
precondition(sessionA.trainer.parameterValues == sessionB.trainer.parameterValues, "same initial weights")
let orderA = sessionA.trainer.dataOrder(epoch: 0), orderB = sessionB.trainer.dataOrder(epoch: 0)
let samePosition = zip(orderA, orderB).filter { $0 == $1 }.count
print("MNIST: \(sessionA.trainer.training.count) training images, \(test.count) test images; MLP 784-128-10, momentum 0.9, lr 0.05, B 128, \(epochs) epochs, \(sessionA.trainer.stepsPerEpoch) steps/epoch")
print("same initial weights (P = \(sessionA.trainer.layout.count)); epoch-1 orders agree at \(samePosition) of \(orderA.count) positions")

let lab = try Lab(path: study.labPath)
var options = RecordingOptions()
options.budget = .bytesPerEpoch(48_000_000)
options.budgetText = "48MB"

struct Probe { var step: Int; var loss: Float; var accuracy: Float }
// Both runs are recorded side by side, one step each in turn; after every step the study takes the
// exact L2 distance between the two trainers' weights (the recorder keeps quantized trajectories
// and checkpoints; the exact per-step distance is what the query would need a replay for).
let recA = try Recording(session: sessionA, lab: lab, runName: "order-a", options: options)
let recB = try Recording(session: sessionB, lab: lab, runName: "order-b", options: options)
var probesA = [Probe](), probesB = [Probe]()
var scalarsA = [Double](), scalarsB = [Double]()
let initial = recA.trainer.parameterValues
var exactDistance: [(step: Int, value: Double)] = [(0, 0)]
func evaluate(_ r: Recording, _ step: Int) throws -> Probe {
    let (l, a) = try r.trainer.evaluate(on: test)
    return Probe(step: step, loss: l, accuracy: a)
}
probesA.append(try evaluate(recA, 0)); probesB.append(try evaluate(recB, 0))
let t0 = study.clock.now
// Frankle et al. also fork *later*: run C is run A's state after `forkStep` steps with the
// data-order seed set to 3, trained in process only (not recorded). Resumed mid-epoch, C visits
// the rest of epoch 1 in seed 3's permutation from the same position, so a few samples of that
// epoch repeat or are skipped; later epochs are whole permutations.
var trainerC: Trainer?
var distanceAC: [(step: Int, value: Double)] = []
while !recA.trainer.isFinished {
    if recA.trainer.completedSteps == forkStep {
        var state = recA.trainer.state
        state.config.seed = 3
        trainerC = try Trainer(state: state, training: recA.trainer.training)
    }
    _ = try trainerC?.step()
    let s = try recA.step()
    let sb = try recB.step()
    scalarsA.append(Double(s.loss)); scalarsB.append(Double(sb.loss))
    let n = s.step + 1
    let wa = recA.trainer.parameterValues, wb = recB.trainer.parameterValues
    var d2 = 0.0
    for i in wa.indices { let d = Double(wa[i]) - Double(wb[i]); d2 += d * d }
    exactDistance.append((n, d2.squareRoot()))
    if let c = trainerC {
        let wc = c.parameterValues
        var dc = 0.0
        for i in wa.indices { let d = Double(wa[i]) - Double(wc[i]); dc += d * d }
        distanceAC.append((n, dc.squareRoot()))
    }
    if n % evalEvery == 0 || recA.trainer.isFinished {
        probesA.append(try evaluate(recA, n)); probesB.append(try evaluate(recB, n))
    }
}
for (r, name) in [(recA, "order-a"), (recB, "order-b")] {
    let summary = try r.finish(interrupted: false)
    print("recorded \(name): \(summary.steps) steps, \(summary.checkpoints) checkpoints, \(summary.snapshots) trajectory snapshots (\(r.plan.trajectoryBits)-bit every \(r.plan.trajectoryStride) steps), \(summary.totalBytes / 1000) kB")
}
print("both runs trained and recorded in \(f(study.elapsed(since: t0), 1)) s")

// MARK: - Progress and distance from the store, through the query language

var points = [Point]()
struct Point { var step: Int; var distance: Estimate }
var finalDistance: Estimate?
var queryFailure: String?
do {
    let query = try study.querySession(defaultRun: "order-a")
    func estimate(_ c: Cell) -> Estimate? { if case .estimate(let e) = c { return e } else { return nil } }
    guard let catA = query.runs.run("order-a")?.catalog, let catB = query.runs.run("order-b")?.catalog else { study.fail("runs missing") }
    // At most ~150 points: every trajectory step both runs recorded, thinned evenly.
    let common = catA.trajectorySteps.filter { $0 >= 1 && catB.trajectorySteps.contains($0) }
    let every = max(1, common.count / 150)
    for (i, n) in common.enumerated() where i % every == 0 || i == common.count - 1 {
        let answer = try query.execute("COMPARE RUNS \"order-a\", \"order-b\" AT STEP \(n) SHOW WEIGHT DISTANCE").answer
        if answer.rows.count == 2, let d = estimate(answer.rows[1][2]) { points.append(Point(step: n, distance: d)) }
    }
    let text = "COMPARE RUNS \"order-a\", \"order-b\" AT STEP \(catA.steps) SHOW LOSS, WEIGHT DISTANCE EXACT"
    let answer = try query.execute(text).answer
    print("\nkymo query '\(text)':\n" + AnswerRenderer.table(answer))
    finalDistance = estimate(answer.rows[1][3])
} catch {
    queryFailure = "\(error)"
    print("\nkymo query on the recorded lab failed: \(error)\n(the study's distances below are the exact in-process ones)")
}
let total = recA.trainer.completedSteps

// MARK: - Tables

@MainActor func smooth(_ steps: [Int], _ values: [Double], window: Int) -> [Double] {
    values.indices.map { i in
        let lo = max(0, i - window + 1)
        return values[lo...i].reduce(0, +) / Double(i - lo + 1)
    }
}

print("\nProgress (test = MNIST t10k, evaluated every \(evalEvery) steps; batch loss = mean of the last 10 steps):")
print("  step | test acc A | test acc B | test loss A | test loss B | batch loss A | batch loss B | ‖w_A − w_B‖ exact | from trajectories [bounds]")
let shown = Set(probesA.map(\.step).filter { $0 == 0 || $0 % max(evalEvery * 4, 1) == 0 || $0 == total })
let smoothA = smooth([], scalarsA, window: 10), smoothB = smooth([], scalarsB, window: 10)
for (pa, pb) in zip(probesA, probesB) where shown.contains(pa.step) {
    let d = points.min { abs($0.step - pa.step) < abs($1.step - pa.step) }
    let dText = d.map { "\(f($0.distance.value, 3)) [\(f($0.distance.lower, 3)), \(f($0.distance.upper, 3))] @\($0.step)" } ?? "-"
    let bl = { (xs: [Double]) in pa.step == 0 ? "-" : f(xs[pa.step - 1]) }
    print("  \(pad("\(pa.step)", 4)) | \(pad(f(Double(pa.accuracy)), 10)) | \(pad(f(Double(pb.accuracy)), 10)) | \(pad(f(Double(pa.loss)), 11)) | \(pad(f(Double(pb.loss)), 11)) | \(pad(bl(smoothA), 12)) | \(pad(bl(smoothB), 12)) | \(pad(f(exactDistance[pa.step].value), 17)) | \(pa.step == 0 ? "0" : dText)")
}
let finalWeights = recA.trainer.parameterValues
let travelled = zip(initial, finalWeights).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
let endDistance = exactDistance.last!.value
print("\nfinal ‖w_A − w_B‖ = \(f(endDistance)) (in process)\(finalDistance.map { "; the query's EXACT answer from the two final checkpoints: \(f($0.value)) [\($0.source)]" } ?? "")")
print("run A travelled ‖w_T − w_0‖ = \(f(travelled)); the two orders end \(f(100 * endDistance / travelled, 1)) % of that apart")
let finalA = probesA.last!, finalB = probesB.last!
print("final test accuracy: A \(f(Double(finalA.accuracy) * 100, 2)) %, B \(f(Double(finalB.accuracy) * 100, 2)) % (difference \(f(Double(finalA.accuracy - finalB.accuracy) * 100, 2)) points)")
do {
    // compare the per-class accuracy through subsets of the test set.)
    for c in 0..<10 {
        let ids = test.labels.indices.filter { test.labels[$0] == Int32(c) }.map { Int32($0) }
        let sub = test.subset(ids)
        let (_, aa) = try recA.trainer.evaluate(on: sub), (_, ab) = try recB.trainer.evaluate(on: sub)
        print("  class \(c): \(ids.count) test images, accuracy A \(f(Double(aa) * 100, 2)) %, B \(f(Double(ab) * 100, 2)) %")
    }
}

// Frankle et al.'s instability test: the test error along the straight line between the two
// end points, w(α) = (1 − α)·w_A + α·w_B. A barrier (error above the end points' mean) means the
// two orders ended in different basins; none means SGD noise from the order alone was "stable".
let finalB_w = recB.trainer.parameterValues
@MainActor func interpolate(_ wa: [Float], _ wb: [Float]) throws -> [(alpha: Double, loss: Double, accuracy: Double)] {
    var path: [(alpha: Double, loss: Double, accuracy: Double)] = []
    for i in 0...10 {
        let alpha = Double(i) / 10
        var state = recA.trainer.state
        state.parameters = zip(wa, wb).map { Float((1 - alpha) * Double($0) + alpha * Double($1)) }
        let t = try Trainer(state: state, training: recA.trainer.training)
        let (l, acc) = try t.evaluate(on: test)
        path.append((alpha, Double(l), Double(acc)))
    }
    return path
}
let path = try interpolate(finalWeights, finalB_w)
let pathC = try trainerC.map { try interpolate(finalWeights, $0.parameterValues) } ?? []
print("\nlinear interpolation w(α) = (1−α)·w_A + α·w_other (Frankle et al.'s instability test), on MNIST t10k:")
print("     α | B (fork at 0): test loss | test error | C (fork at \(forkStep)): test loss | test error")
for (i, p) in path.enumerated() {
    let c = i < pathC.count ? "\(pad(f(pathC[i].loss), 22)) | \(pad(f(100 * (1 - pathC[i].accuracy), 2), 8)) %" : ""
    print("  \(pad(f(p.alpha, 1), 4)) | \(pad(f(p.loss), 24)) | \(pad(f(100 * (1 - p.accuracy), 2), 8)) % | \(c)")
}
func barrier(_ path: [(alpha: Double, loss: Double, accuracy: Double)]) -> Double {
    (path.map { 1 - $0.accuracy }.max()! - ((1 - path.first!.accuracy) + (1 - path.last!.accuracy)) / 2) * 100
}
print("error barrier (max error on the path − mean of the end points): A–B \(f(barrier(path), 2)) points" + (pathC.isEmpty ? "" : ", A–C \(f(barrier(pathC), 2)) points"))
if let c = distanceAC.last { print("‖w_A − w_C‖ at the end = \(f(c.value)) (fork at step \(forkStep)) vs ‖w_A − w_B‖ = \(f(endDistance)) (fork at 0)") }

// MARK: - Pictures

let distanceChart = LineChart(title: "Weight distance to run A by step (same init, different order)", xLabel: "step", yLabel: "L2 distance", series: [
    Series(name: "exact (in process, every step)", steps: exactDistance.map(\.step), values: exactDistance.map(\.value)),
    Series(name: "A vs C (fork at step \(forkStep), exact)", steps: distanceAC.map(\.step), values: distanceAC.map(\.value), color: "#2ca02c"),
    Series(name: "from recorded trajectories (query)", steps: points.map(\.step), values: points.map(\.distance.value), dashed: true),
    Series(name: "query lower bound", steps: points.map(\.step), values: points.map(\.distance.lower), faint: true),
    Series(name: "query upper bound", steps: points.map(\.step), values: points.map(\.distance.upper), faint: true),
], includeZero: true, width: 760, height: 320)
study.write(.line(distanceChart), "weight-distance.svg")
let accuracyChart = LineChart(title: "Test accuracy (MNIST t10k)", xLabel: "step", yLabel: "accuracy", series: [
    Series(name: "order A (seed 1)", steps: probesA.map(\.step), values: probesA.map { Double($0.accuracy) }),
    Series(name: "order B (seed 2)", steps: probesB.map(\.step), values: probesB.map { Double($0.accuracy) }, dashed: true),
])
study.write(.line(accuracyChart), "test-accuracy.svg")
let steps = Array(1...total)
let lossChart = LineChart(title: "Batch loss (T0, mean of 10 steps)", xLabel: "step", yLabel: "loss", series: [
    Series(name: "order A", steps: steps, values: smoothA),
    Series(name: "order B", steps: steps, values: smoothB, dashed: true),
], yScale: .log)
study.write(.line(lossChart), "batch-loss.svg")
let pathChart = LineChart(title: "Test error along w(α) = (1−α)·w_A + α·w_other", xLabel: "α", yLabel: "test error (%)", series: [
    Series(name: "A–B (fork at 0)", x: path.map(\.alpha), y: path.map { 100 * (1 - $0.accuracy) }),
    Series(name: "A–C (fork at \(forkStep))", x: pathC.map(\.alpha), y: pathC.map { 100 * (1 - $0.accuracy) }, dashed: true),
], includeZero: true)
study.write(.line(pathChart), "interpolation.svg")
study.write(.grid(SmallMultiples([.line(lossChart), .line(accuracyChart), .line(distanceChart), .line(pathChart)], columns: 2)), "ordering.svg")
print("study-ordering: \(f(study.elapsed(), 1)) s")
