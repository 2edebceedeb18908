import Foundation
import KymoEngine
import KymoRecorder
import KymoStore
import KymoTestSupport
import Testing
@testable import KymoReport

/// `kymo report` on real recordings: small digits runs recorded into a temporary lab.
@Suite struct RunReportTests {
    static func record(_ lab: Lab, run: String, seed: UInt64, epochs: Int = 2) throws {
        var c = TrainingConfig(model: try ModelSpec(layers: "64,24,10"))
        c.data = "digits"
        c.optimizer.kind = .momentum
        c.optimizer.learningRate = 0.05
        c.batchSize = 64
        c.epochs = epochs
        c.seed = seed
        var o = RecordingOptions()
        o.budget = .bytesPerEpoch(16_000_000)
        o.commitEverySteps = 10
        o.probeEvery = 10
        let recording = try Recording(session: try TrainingSession(config: c), lab: lab, runName: run, options: o)
        while !recording.trainer.isFinished { try recording.step() }
        try recording.finish()
    }

    /// One lab with runs "a" and "b" (different seeds), shared by the tests of this suite.
    static func lab() throws -> (TemporaryDirectory, String) {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/lab"
        let lab = try Lab(path: path)
        try record(lab, run: "a", seed: 1)
        try record(lab, run: "b", seed: 2)
        return (dir, path)
    }

    /// Runs a and b recorded once; every check below reads them.
    @Test func reportOnRecordedRuns() throws {
        let (dir, path) = try Self.lab()
        defer { withExtendedLifetime(dir) {} }
        try sectionsInHTMLAndMarkdown(path)
        try coverageIsComputedFromTheRun(path)
        try curvesAndTrajectoriesCarryTheRunsNumbers(path)
    }

    func sectionsInHTMLAndMarkdown(_ path: String) throws {
        let a = try RunReportSource(labPath: path, run: "a")
        let b = try RunReportSource(labPath: path, run: "b")
        let model = try RunReport.build(a, compare: b)
        let headings = model.sections.map(\.heading)
        #expect(headings == ["Training curves", "What was recorded", "Error bounds", "Most-changed weights", "Comparison"])
        let html = model.html()
        let md = model.markdown()
        for heading in headings {
            #expect(html.contains(heading), "\(heading) in HTML")
            #expect(md.contains(heading), "\(heading) in Markdown")
        }
        #expect(html.contains("<svg"))
        #expect(!html.contains("<script"))
        // Every figure has data: the scatter draws estimates, the line charts polylines.
        #expect(html.contains("class=\"estimate\""))
        #expect(html.contains("<polyline") || html.contains("<path"))
    }

    func coverageIsComputedFromTheRun(_ path: String) throws {
        let a = try RunReportSource(labPath: path, run: "a")
        let checks = try RunReport.boundChecks(a)
        let sources = checks.map(\.source)
        #expect(sources.contains { $0.hasPrefix("t2/traj") })
        #expect(sources.contains { $0.hasPrefix("t2/contrib sample") })
        #expect(sources.contains { $0.hasPrefix("t2/contrib HT") })
        #expect(sources.contains { $0.hasPrefix("t0/gradq") })
        #expect(sources.contains { $0.hasPrefix("t2/hh") })
        #expect(sources.contains { $0.hasPrefix("t2/cm") })
        #expect(sources.contains { $0.hasPrefix("t2/ss") })
        let n1 = a.manifest.t1Count
        for check in checks {
            let stats = BoundStatistics(check.observations)
            #expect(stats.count > 0, "\(check.source)")
            // Deterministic bounds must hold on a correct recorder.
            if stats.statedConfidence >= 1 { #expect(stats.covered == stats.count, "\(check.source): \(stats.covered)/\(stats.count)") }
        }
        // The per-tuple check has one observation per (T1 weight, batch position, step).
        let perTuple = try #require(checks.first { $0.source.hasPrefix("t2/contrib sample") })
        let batches = try a.uintRows("t0/order").reduce(0) { $0 + $1.values.count }
        #expect(perTuple.observations.count == n1 * batches)
        // Kept tuples are exact: some answers have zero width and zero error, dropped ones width 2τ.
        #expect(perTuple.observations.contains { $0.width == 0 && $0.error == 0 && $0.truth != 0 })
        #expect(perTuple.observations.contains { $0.width > 0 })
        // Trajectory answers at T1 weights: within their bound, and not trivially equal.
        let traj = try #require(checks.first { $0.source.hasPrefix("t2/traj") })
        #expect(traj.observations.contains { $0.error > 0 })
        // The |g| fraction answers: the truth moves across steps (not a constant).
        let gradq = try #require(checks.first { $0.source.hasPrefix("t0/gradq") })
        #expect(Set(gradq.observations.map(\.truth)).count > 2)
        // Tampering with one truth is detected: coverage falls below 100 %.
        var broken = traj
        broken.observations[0].truth += 1
        #expect(BoundStatistics(broken.observations).covered == traj.observations.count - 1)
    }

    func curvesAndTrajectoriesCarryTheRunsNumbers(_ path: String) throws {
        let lab = try Lab(existing: path)
        let reader = try lab.openRun("a")
        let a = try RunReportSource(reader: reader)
        let curves = try RunReport.trainingCurves(a)
        guard case let .float32(loss) = try reader.read(column: "t0/loss", steps: 0..<a.rows) else { Issue.record("loss"); return }
        #expect(curves.loss == loss.map(Double.init))
        #expect(curves.steps.first == 1 && curves.steps.count == a.rows)
        #expect(!curves.probeAccuracy.isEmpty)
        let weights = try RunReport.trajectories(a, count: 6)
        #expect(weights.count == 6)
        #expect(weights.contains { !$0.exact.isEmpty })
        for w in weights {
            #expect(w.values.count == w.steps.count)
            if let worst = w.worstReconstructionError { #expect(worst <= w.quantum / 2 + 1e-6) }
        }
        // Ordered by Σ|Δw|, which is recorded exactly in t0/epoch/sumabs.
        #expect(weights[0].totalVariation > 0)
        let comparison = try RunReport.comparison(a, try RunReportSource(labPath: path, run: "b"), curves: curves)
        #expect(!comparison.distance.isEmpty)
        #expect(comparison.distance.allSatisfy { $0 > 0 })
    }

    @Test func sameRunSameBytes() throws {
        let one = try TemporaryDirectory(), two = try TemporaryDirectory()
        defer { withExtendedLifetime((one, two)) {} }
        try Self.record(try Lab(path: one.path + "/lab"), run: "a", seed: 1, epochs: 1)
        try Self.record(try Lab(path: two.path + "/lab"), run: "a", seed: 1, epochs: 1)
        let first = try RunReport.build(try RunReportSource(labPath: one.path + "/lab", run: "a"))
        let again = try RunReport.build(try RunReportSource(labPath: one.path + "/lab", run: "a"))
        #expect(first.html() == again.html())
        #expect(first.markdown() == again.markdown())
        // A second recording of the same configuration gives the same report bytes too.
        let other = try RunReport.build(try RunReportSource(labPath: two.path + "/lab", run: "a"))
        #expect(other.html() == first.html())
        #expect(other.markdown() == first.markdown())
    }
}
