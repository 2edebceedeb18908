// Study "influence": which training samples moved a layer's weights most in one epoch
// (question 1), shown as the 28x28 MNIST images themselves.
//
// A sample's push on a layer in an epoch is Σ_w Σ_t |c(s, w, t)| over the layer's weights w and
// the epoch's steps t, with c(s, w, t) the per-sample contribution of docs/ATTRIBUTION.md
// (`BY ABS CONTRIBUTION FOR WEIGHTS layer`). The recorded answer comes from the per-neuron sketches
// (`kymo query`, with bounds); the exact one from a replay of the epoch that computes every c for
// every weight of the layer. The pictures: the top samples as an image grid with captions (sample
// id, label, contribution), the exact ranking's tail for contrast, and the distribution of the
// push over all samples.
//
//   swift run -c release study-influence [--out DIR] [--k K] [--epoch E] [--mnist DIR]

import Foundation
import KymoEngine
import KymoQuery
import KymoRecorder
import KymoReplay
import KymoReport
import KymoStore
import StudySupport

var mnistDir = "../shared/data/mnist"
var k = 24
var epoch = 2
let study = Study(name: "study-influence", outDir: "out/influence", usage: "usage: study-influence [--out DIR] [--k K] [--epoch E (1-based)] [--mnist DIR]") { flag, next in
    switch flag {
    case "--mnist": mnistDir = next() ?? mnistDir
    case "--k": k = Int(next() ?? "") ?? k
    case "--epoch": epoch = Int(next() ?? "") ?? epoch
    default: return false
    }
    return true
}
let outDir = study.outDir

// MARK: - Record

try study.freshOutput()
let mnistAbsolute = URL(fileURLWithPath: mnistDir).standardizedFileURL.path
var config = TrainingConfig(model: try ModelSpec(layers: "784,32,10"))
config.data = "idx:\(mnistAbsolute)"
config.optimizer.kind = .momentum
config.optimizer.learningRate = 0.05
config.optimizer.momentum = 0.9
config.batchSize = 64
config.epochs = max(epoch, 2)
config.seed = 1
let session = try TrainingSession(config: config)
let lab = try Lab(path: study.labPath)
var options = RecordingOptions()
options.budget = .bytesPerEpoch(32_000_000)
options.budgetText = "32MB"
let runName = "mnist"
let recording = try Recording(session: session, lab: lab, runName: runName, options: options)
while !recording.trainer.isFinished { _ = try recording.step() }
let summary = try recording.finish(interrupted: false)
let layout = recording.trainer.layout
let training = recording.trainer.training
print("MNIST: \(training.count) training images; MLP 784-32-10, momentum 0.9, lr 0.05, B 64, \(config.epochs) epochs = \(summary.steps) steps; recorded in \(f(study.elapsed(), 1)) s (\(summary.totalBytes / 1000) kB)")

let layer = layout.layers[1]
let layerName = layer.name
print("layer \(layerName): \(layer.outFeatures)×\(layer.inFeatures) weights + \(layer.outFeatures) biases; epoch \(epoch)")

// MARK: - The recorded answer (sketches), through the query

let text = "TOP \(k) SAMPLES BY ABS CONTRIBUTION FOR WEIGHTS \(layerName)[*,*] IN EPOCH \(epoch)"
var sketch: [(sample: Int, estimate: Estimate)] = []
do {
    let query = try study.querySession(defaultRun: runName)
    let execution = try query.execute(text)
    print("\nkymo query '\(text)' --explain:")
    print(execution.plans.map { $0.explained() }.joined(separator: "\n"))
    print(AnswerRenderer.table(execution.answer))
    let columns = execution.answer.columns.map(\.name)
    if let si = columns.firstIndex(of: "sample"), let ci = columns.firstIndex(where: { $0.contains("contribution") }) {
        for row in execution.answer.rows {
            if case .integer(let s) = row[si], case .estimate(let est) = row[ci] { sketch.append((s, est)) }
        }
    }
} catch let error as QueryError {
    print("\nkymo query '\(text)' failed:\n\(error.rendered(in: text))")
} catch {
    print("\nkymo query '\(text)' failed: \(error)")
}

// MARK: - The exact answer, by replay

let replayer = try study.replayer(run: runName)
var request = ReplayRequest(steps: try replayer.steps(ofEpoch: epoch - 1))
request.contributionIDs = Array(layer.weightRange)
let replayStart = study.clock.now
let replay = try replayer.replay(request)
let table = replay.contributions
var push = [Double](repeating: 0, count: training.count)
var seen = [Int](repeating: 0, count: training.count)
for row in 0..<table.rowCount {
    var sum = 0.0
    let base = row * table.ids.count
    for j in 0..<table.ids.count { sum += Double(abs(table.values[base + j])) }
    push[table.samples[row]] += sum
    seen[table.samples[row]] += 1
}
print("\nreplayed epoch \(epoch) (steps \(request.steps.lowerBound + 1)...\(request.steps.upperBound)) with every c(s,w,t) of \(layerName)'s \(layer.weightCount) weights in \(f(study.elapsed(since: replayStart), 2)) s: \(table.rowCount) (step, sample) rows")
let ranked = push.indices.filter { seen[$0] > 0 }.sorted { push[$0] != push[$1] ? push[$0] > push[$1] : $0 < $1 }
let totalPush = ranked.reduce(0.0) { $0 + push[$1] }
let topShare = ranked.prefix(k).reduce(0.0) { $0 + push[$1] } / totalPush
print("the top \(k) of \(ranked.count) samples carry \(f(100 * topShare, 2)) % of the epoch's Σ|c| on \(layerName) (a uniform share would be \(f(100 * Double(k) / Double(ranked.count), 3)) %)")

var mean = 0.0
for s in ranked { mean += push[s] }
mean /= Double(ranked.count)
print("\n rank | sample | label | exact Σ|c| (replay) | × mean | sketch rank: sample  estimate [lower, upper] source | exact of the sketch's sample | in bounds")
var covered = 0
for r in 0..<max(k, sketch.count) {
    var line = " \(pad("\(r + 1)", 4)) | "
    if r < ranked.count && r < k {
        let s = ranked[r]
        line += "\(pad("\(s)", 6)) | \(pad("\(training.labels[s])", 5)) | \(pad(e(push[s]), 19)) | \(pad(f(push[s] / mean, 1), 6)) | "
    } else { line += String(repeating: " ", count: 48) + "| " }
    if r < sketch.count {
        let (s, est) = sketch[r]
        let ok = est.covers(push[s])
        if ok { covered += 1 }
        line += "\(pad("\(s)", 6))  \(e(est.value)) [\(e(est.lower)), \(e(est.upper))] \(est.source) | \(pad(e(push[s]), 11)) | \(ok ? "yes" : "NO")"
    }
    print(line)
}
if !sketch.isEmpty {
    let overlap = Set(sketch.map(\.sample)).intersection(Set(ranked.prefix(k))).count
    print("sketch bounds covered the exact value for \(covered) of \(sketch.count) listed samples; top-\(k) sets overlap in \(overlap)")
}
// The same question with EXACT: the planner must replay the epoch through the query.
do {
    let exactText = text + " EXACT"
    let query = try study.querySession(defaultRun: runName)
    let t0 = study.clock.now
    let answer = try query.execute(exactText).answer
    let columns = answer.columns.map(\.name)
    var rows: [(Int, Estimate)] = []
    if let si = columns.firstIndex(of: "sample"), let ci = columns.firstIndex(where: { $0.contains("contribution") }) {
        for row in answer.rows { if case .integer(let s) = row[si], case .estimate(let est) = row[ci] { rows.append((s, est)) } }
    }
    let same = rows.map(\.0) == Array(ranked.prefix(k))
    let maxRel = rows.map { abs($0.1.value - push[$0.0]) / push[$0.0] }.max() ?? 0
    print("\nkymo query '\(exactText)' (\(f(study.elapsed(since: t0), 2)) s): sources \(Set(rows.map { "\($0.1.source)" }).sorted()); same samples in the same order as the study's replay: \(same ? "yes" : "NO"); largest relative difference \(e(maxRel))")
} catch let error as QueryError {
    print("\nkymo query EXACT failed: " + error.rendered(in: text + " EXACT"))
} catch {
    print("\nkymo query EXACT failed: \(error)")
}
var byLabel = [Int](repeating: 0, count: 10)
for s in ranked.prefix(k) { byLabel[Int(training.labels[s])] += 1 }
print("labels among the top \(k): " + (0..<10).map { "\($0): \(byLabel[$0])" }.joined(separator: ", "))

// MARK: - Pictures

func image(_ s: Int, _ caption: [String]) -> GrayImage {
    GrayImage(width: 28, height: 28, pixels: Array(training.features[s * 784..<(s + 1) * 784]), caption: caption)
}
let sketchRank = Dictionary(uniqueKeysWithValues: sketch.enumerated().map { ($1.sample, $0 + 1) })
let topImages = ranked.prefix(k).enumerated().map { r, s in
    image(s, ["#\(r + 1) id \(s) label \(training.labels[s])", "Σ|c| \(e(push[s]))", sketchRank[s].map { "sketch rank \($0)" } ?? (sketch.isEmpty ? "" : "not in sketch top \(k)")])
}
study.write(.images(ImageGrid(title: "The \(k) samples that moved \(layerName) most in epoch \(epoch) (exact, replay)", images: topImages, columns: 8, cellSize: 84)), "top-samples.svg")
let tail = ranked.suffix(8).map { s in image(s, ["id \(s) label \(training.labels[s])", "Σ|c| \(e(push[s]))"]) }
study.write(.images(ImageGrid(title: "The 8 that moved it least", images: tail, columns: 8, cellSize: 84)), "least-samples.svg")
if !sketch.isEmpty {
    let sketchImages = sketch.map { s, est in image(s, ["id \(s) label \(training.labels[s])", "≈ \(e(est.value))", "exact \(e(push[s]))"]) }
    study.write(.images(ImageGrid(title: "The sketches' top \(k) (kymo query)", images: sketchImages, columns: 8, cellSize: 84)), "sketch-top-samples.svg")
}
let logs = ranked.map { log10(max(push[$0], 1e-30)) }
study.write(.bars(BarChart.histogram(title: "log10 Σ|c| per sample on \(layerName), epoch \(epoch)", xLabel: "log10 Σ|c(s,w,t)|", values: logs, bins: 40)), "push-histogram.svg")
print("study-influence: \(f(study.elapsed(), 1)) s")
