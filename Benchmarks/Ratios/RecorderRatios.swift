import Foundation
import KymoRecorder

/// The recorder's per-step costs at seed scale, as ns/param and µs/step, and as ratios to the
/// cost of copying one P-float vector (the unit the training thread pays per hand-off), measured
/// in one run. A plain seed-scale step is ~3 ms (DESIGN.md: 4–5 s per 1563-step epoch).
func recorderRatios() throws {
    let workloads = RecorderWorkload.seedScale()
    let medians = Stopwatch.interleavedMedians(rounds: 31, workloads.map { w in { w.run() } })
    let copy = medians[0]
    for (w, seconds) in zip(workloads, medians) {
        let perUnit = seconds * 1e9 / Double(w.unitsPerCall)
        let label = w.name.padding(toLength: 58, withPad: " ", startingAt: 0)
        print("\(label) \(String(format: "%8.3f", perUnit)) ns/\(w.unit)  \(String(format: "%8.1f", seconds * 1e6)) µs/call  \(String(format: "%6.2f", seconds / copy))x copy")
    }
    for w in workloads where !w.report().isEmpty { print(w.report()) }
}
