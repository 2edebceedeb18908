import KymoStore
import KymoTestSupport
import Testing
@testable import KymoQuery

/// A query against a run that is still being written sees its last commit; refresh moves it on.
@Suite struct LiveQueryTests {
    @Test func sessionSeesTheLastCommitAndFollows() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path + "/lab")
        let run = ExactRunFixture.a
        let perEpoch = run.catalog.stepsPerEpoch
        let recorder = try StandInRecorder(run: run, lab: lab, name: "a", commitEvery: 5)
        try recorder.write(through: perEpoch + 6)
        let session = try QuerySession(labPath: dir.path + "/lab", defaultRun: "a")
        #expect(session.runs.run("a")?.catalog.steps == perEpoch + 6)
        #expect(!session.allFinished)
        let early = try session.answer("SELECT MEAN LOSS PER EPOCH", format: .csv, explain: false)
        #expect(early.split(separator: "\n").count == 1 + 2)
        // Epoch 2 is not complete: its sums are not there yet, and the answer says so.
        #expect(throws: QueryError.self) { try session.answer("TOP 3 WEIGHTS BY SUM ABS DELTA IN EPOCH 2", format: .table, explain: false) }
        #expect(try !session.refresh())

        try recorder.write(through: run.catalog.steps)
        try recorder.finish()
        #expect(try session.refresh())
        #expect(session.allFinished)
        let late = try session.answer("SELECT MEAN LOSS PER EPOCH", format: .csv, explain: false)
        #expect(late.split(separator: "\n").count == 1 + 3)
        #expect(late.hasPrefix(early.split(separator: "\n").prefix(2).joined(separator: "\n")))
        _ = try session.answer("TOP 3 WEIGHTS BY SUM ABS DELTA IN EPOCH 2", format: .table, explain: false)
    }

    @Test func exactFlagIsTheExactClause() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path + "/lab")
        let run = ExactRunFixture.a
        let recorder = try StandInRecorder(run: run, lab: lab, name: "a", commitEvery: 5)
        try recorder.write(through: run.catalog.steps)
        try recorder.finish()
        let session = try QuerySession(labPath: dir.path + "/lab", defaultRun: "a")
        let text = "TOP 3 WEIGHTS BY SUM ABS DELTA IN EPOCH 2"
        let viaFlag = try session.answer(text, format: .table, explain: true, exact: true)
        let viaClause = try session.answer(text + " EXACT", format: .table, explain: true)
        let plain = try session.answer(text, format: .table, explain: true)
        #expect(viaFlag == viaClause)
        #expect(viaFlag != plain)  // the plan states the tolerance it was asked for
    }

    @Test func unknownRunIsNamed() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path + "/lab")
        try ExactRunFixture.b.write(to: lab, name: "seed-2")
        #expect(throws: QueryError.unknownRun(name: "seed2", location: nil, suggestion: "seed-2")) {
            try QuerySession(labPath: dir.path + "/lab", defaultRun: "seed2")
        }
        let session = try QuerySession(labPath: dir.path + "/lab", defaultRun: nil)
        #expect(throws: QueryError.self) { try session.answer("SELECT MEAN LOSS FROM RUN seed_2", format: .table, explain: false) }
    }
}
