// Study "dead-weights": weights that went to zero (question 5). For each, the K samples that drove
// it there — from the recorded sketches (`kymo query ... UNTIL ZERO`, answered from the weighted
// contribution sample and the trajectories, with bounds) and confirmed by an exact replay of the
// run (`SegmentReplayer` re-executes the steps bit for bit and sums every sample's contribution
// c(s, w, t) up to the step where the weight reached or crossed zero).
//
// The run: the 8x8 digits (embedded), MLP 64-32-10, SGD with momentum and weight decay, so many
// weights are pulled through zero. The weights studied are those of fc2 that are *not* in the T1
// sample (so the query must use sketches), whose sign flipped, largest |w₀| first.
//
//   swift run -c release study-dead-weights [--out DIR] [--weights N] [--k K] [--epochs E]

import Foundation
import KymoEngine
import KymoQuery
import KymoRecorder
import KymoReplay
import KymoReport
import KymoStore
import StudySupport

var weightCount = 4
var k = 8
var epochs = 20
var weightDecay: Float = 0
let study = Study(name: "study-dead-weights", outDir: "out/dead-weights", usage: "usage: study-dead-weights [--out DIR] [--weights N] [--k K] [--epochs E] [--weight-decay λ]") { flag, next in
    switch flag {
    case "--weights": weightCount = Int(next() ?? "") ?? weightCount
    case "--k": k = Int(next() ?? "") ?? k
    case "--weight-decay": weightDecay = Float(next() ?? "") ?? weightDecay
    case "--epochs": epochs = Int(next() ?? "") ?? epochs
    default: return false
    }
    return true
}
let outDir = study.outDir

/// Signed scientific notation.
func se(_ x: Double) -> String { String(format: "%+.3e", x) }

// MARK: - Record

try study.freshOutput()
var config = TrainingConfig(model: try ModelSpec(layers: "64,32,10"))
config.data = "digits"
config.optimizer.kind = .momentum
config.optimizer.learningRate = 0.05
config.optimizer.momentum = 0.9
config.optimizer.weightDecay = weightDecay
config.batchSize = 32
config.epochs = epochs
config.seed = 1
let session = try TrainingSession(config: config)
let lab = try Lab(path: study.labPath)
var options = RecordingOptions()
options.budget = .bytesPerEpoch(16_000_000)
options.budgetText = "16MB"
let runName = "digits"
let recording = try Recording(session: session, lab: lab, runName: runName, options: options)
let initial = recording.trainer.parameterValues
while !recording.trainer.isFinished { _ = try recording.step() }
let final = recording.trainer.parameterValues
let summary = try recording.finish(interrupted: false)
let layout = recording.trainer.layout
let plan = recording.plan
print("digits: \(recording.trainer.training.count) training samples; MLP 64-32-10, momentum 0.9, lr 0.05, weight decay \(weightDecay), B 32, \(epochs) epochs = \(summary.steps) steps")
print("recorded in \(f(study.elapsed(), 1)) s: T1 \(plan.t1Count) weights, trajectories \(plan.trajectoryBits)-bit every \(plan.trajectoryStride) steps, \(plan.sampledContributionsPerStep) sampled contributions per step, \(summary.totalBytes / 1000) kB")

// MARK: - Which weights went through zero

let fc2 = layout.layers[1]
let t1 = Set(recording.manifest.t1Ids)
let flipped = fc2.weightRange.filter { !t1.contains($0) && initial[$0] * final[$0] <= 0 }
let candidates = flipped.sorted { abs(initial[$0]) != abs(initial[$1]) ? abs(initial[$0]) > abs(initial[$1]) : $0 < $1 }.prefix(weightCount * 3)
print("\(flipped.count) of fc2's \(fc2.weightCount) weights changed sign between the initial and the final checkpoint (\(fc2.weightRange.filter { initial[$0] * final[$0] <= 0 }.count) with T1's)")

let replayer = try study.replayer(run: runName)
var request = ReplayRequest(steps: 0..<summary.steps)
request.zeroCrossings = candidates.map { ZeroCrossingQuery(parameter: $0, k: k) }
let replayStart = study.clock.now
let replay = try replayer.replay(request)
print("replayed steps 1...\(summary.steps) in \(f(study.elapsed(since: replayStart), 2)) s (\(replay.segments.count) segments; checkpoint hashes reproduced at \(replay.verifiedCheckpoints.count) checkpoints)")
let crossings = replay.zeroCrossings.filter { $0.step != nil }.prefix(weightCount)
// A second replay for the exact weight values by step of the chosen weights.
var trajectoryRequest = ReplayRequest(steps: 0..<summary.steps)
trajectoryRequest.trajectoryIDs = crossings.map(\.query.parameter)
let trajectories = try replayer.replay(trajectoryRequest)

// MARK: - Sketch answer vs replay, per weight

var query: QuerySession?
do { query = try study.querySession(defaultRun: runName) } catch {
    print("\nkymo query cannot open the lab: \(error) — the sketch column below stays empty")
}
var observations = [BoundedObservation]()
var covered = 0, compared = 0, overlap = 0, overlapTotal = 0
var charts = [Chart]()
for crossing in crossings {
    let id = crossing.query.parameter
    let name = layout.name(of: id)
    let w0 = Double(crossing.initialValue)
    let toward = w0 > 0 ? -1.0 : 1.0
    // Exact totals towards zero, per sample, up to and including the crossing step.
    var exact: [Int: Double] = [:]
    for (s, c) in zip(crossing.samples, crossing.contributions) { exact[s, default: 0] += Double(c) * toward }
    let exactTop = exact.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(k)
    print("\n\(name): w₀ = \(se(w0)); exact crossing at step \(crossing.step! + 1): \(se(Double(crossing.valueBefore ?? .nan))) → \(se(Double(crossing.valueAfter ?? .nan))); \(exact.count) samples contributed")
    let text = "TOP \(k) SAMPLES BY CONTRIBUTION FOR WEIGHT \(name) UNTIL ZERO"
    var sketchRows: [(sample: Int, label: Int?, estimate: Estimate)] = []
    var notes: [String] = []
    if let query {
        do {
            let execution = try query.execute(text)
            let columns = execution.answer.columns.map(\.name)
            let si = columns.firstIndex(of: "sample"), li = columns.firstIndex(of: "label"), ci = columns.firstIndex { $0.contains("contribution") }
            for row in execution.answer.rows {
                guard let si, let ci, case .integer(let s) = row[si], case .estimate(let est) = row[ci] else { continue }
                var label: Int?
                if let li, case .integer(let l) = row[li] { label = l }
                sketchRows.append((s, label, est))
            }
            notes = execution.answer.notes
        } catch let error as QueryError {
            notes = ["query failed: " + error.rendered(in: text).split(separator: "\n").joined(separator: " ")]
        } catch {
            notes = ["query failed: \(error)"]
        }
    }
    print("  kymo query '\(text)'" + (notes.isEmpty ? "" : " — " + notes.joined(separator: "; ")))
    print("  rank | sketch: sample  contribution [lower, upper]         source                 | replay (EXACT): sample  contribution | sketch's sample, exact | in bounds")
    for r in 0..<max(sketchRows.count, exactTop.count) {
        var left = padRight("", 72), truthText = "", inBounds = ""
        if r < sketchRows.count {
            let row = sketchRows[r]
            left = "\(pad("\(row.sample)", 6))  \(se(row.estimate.value)) [\(se(row.estimate.lower)), \(se(row.estimate.upper))]  \(padRight("\(row.estimate.source)", 22))"
            let truth = exact[row.sample] ?? 0
            truthText = se(truth)
            let ok = row.estimate.covers(truth)
            inBounds = ok ? "yes" : "NO"
            compared += 1; if ok { covered += 1 }
            observations.append(BoundedObservation(estimate: row.estimate.value, lower: row.estimate.lower, upper: row.estimate.upper, truth: truth, confidence: row.estimate.confidence))
        }
        let right = r < exactTop.count ? "\(pad("\(exactTop[exactTop.index(exactTop.startIndex, offsetBy: r)].key)", 6))  \(se(exactTop[exactTop.index(exactTop.startIndex, offsetBy: r)].value))" : padRight("", 20)
        print("  \(pad("\(r + 1)", 4)) | \(left) | \(right) | \(pad(truthText, 11)) | \(inBounds)")
    }
    // The same question with EXACT: the planner must answer from replay (the weight is not in T1).
    if let query {
        let exactText = text + " EXACT"
        do {
            let answer = try query.execute(exactText).answer
            let columns = answer.columns.map(\.name)
            var rows: [(Int, Estimate)] = []
            if let si = columns.firstIndex(of: "sample"), let ci = columns.firstIndex(where: { $0.contains("contribution") }) {
                for row in answer.rows { if case .integer(let s) = row[si], case .estimate(let est) = row[ci] { rows.append((s, est)) } }
            }
            let same = rows.map(\.0) == exactTop.map(\.key)
            let maxDiff = rows.map { abs($0.1.value - (exact[$0.0] ?? 0)) }.max() ?? 0
            print("  kymo query '\(exactText)': \(rows.map { "\($0.0) (\(se($0.1.value)), \($0.1.source))" }.joined(separator: ", "))")
            print("    same samples in the same order as the direct replay: \(same ? "yes" : "NO"); largest difference of a value \(se(maxDiff))" + (answer.notes.isEmpty ? "" : "; " + answer.notes.joined(separator: "; ")))
        } catch let error as QueryError {
            print("  kymo query '\(exactText)' failed: " + error.rendered(in: exactText).split(separator: "\n").joined(separator: " "))
        } catch {
            print("  kymo query '\(exactText)' failed: \(error)")
        }
    }
    if !sketchRows.isEmpty {
        let sketchSet = Set(sketchRows.map(\.sample)), exactSet = Set(exactTop.map(\.key))
        overlap += sketchSet.intersection(exactSet).count; overlapTotal += exactSet.count
        print("  top-\(k) overlap sketch vs exact: \(sketchSet.intersection(exactSet).count) of \(exactSet.count)")
    }
    // The exact weight by step (replay) against w₀ moved by the samples' contributions alone:
    // the gap is weight decay's pseudo-sample and momentum carried from earlier steps.
    let column = trajectoryRequest.trajectoryIDs.firstIndex(of: id)!
    let last = crossing.step! + 1
    let exactPath = [(0, w0)] + trajectories.trajectory.prefix(last).map { ($0.step + 1, Double($0.values[column])) }
    var byStep: [(Int, Double)] = [(0, w0)]
    var running = 0.0
    var lastStep = -1
    for (t, c) in zip(crossing.steps, crossing.contributions) {
        running += Double(c)
        if t != lastStep { byStep.append((t + 1, w0 + running)); lastStep = t } else { byStep[byStep.count - 1].1 = w0 + running }
    }
    let samplesShare = exact.values.reduce(0, +) / abs(w0)
    print("  the samples' contributions up to the crossing add up to \(f(100 * samplesShare, 1)) % of |w₀| towards zero; the rest is momentum carried from earlier steps\(weightDecay > 0 ? " and weight decay (λ·w)" : "")")
    charts.append(.line(LineChart(title: "\(name) until it crossed zero (replay, exact)", xLabel: "step", yLabel: "w", series: [
        Series(name: "w (exact)", steps: exactPath.map(\.0), values: exactPath.map(\.1)),
        Series(name: "w₀ + Σ samples' c", steps: byStep.map(\.0), values: byStep.map(\.1), dashed: true),
        Series(name: "w₀ + Σ c / (1 − μ)", steps: byStep.map(\.0), values: byStep.map { w0 + ($0.1 - w0) / 0.1 }, dashed: true, faint: true),
    ], annotations: [Annotation(.x, at: Double(last), label: "crossing")], includeZero: true, width: 420, height: 240)))
}
if compared > 0 {
    print("\nsketch bounds covered the exact replay value for \(covered) of \(compared) listed samples; top-\(k) sets overlapped in \(overlap) of \(overlapTotal)")
    study.write(.scatter(BoundScatter(title: "UNTIL ZERO: sketch vs replay", observations: observations, xLabel: "exact contribution towards zero (replay)")), "sketch-vs-replay.svg")
}
if !charts.isEmpty { study.write(.grid(SmallMultiples(charts, columns: 2)), "paths-to-zero.svg") }
print("study-dead-weights: \(f(study.elapsed(), 1)) s")
