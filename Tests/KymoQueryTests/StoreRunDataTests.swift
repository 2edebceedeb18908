import KymoEngine
import KymoStore
import KymoTestSupport
import Testing
@testable import KymoQuery

/// The same run answered from memory (ExactRunData) and from the store (StoreRunData, written in
/// the recorder's column layout) gives the same answers; the store's trajectory bounds cover the truth.
@Suite struct StoreRunDataTests {
    func withStore(_ body: (StoreRunData) throws -> Void) throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path + "/lab")
        try ExactRunFixture.a.write(to: lab, name: "a")
        let data = try StoreRunData(reader: try lab.openRun("a"))
        try body(data)
    }

    /// The answer without its label column (the store does not hold the data set).
    func withoutLabels(_ answer: Answer) -> Answer {
        guard let i = answer.columns.firstIndex(where: { $0.name == "label" }) else { return answer }
        var a = answer
        a.columns.remove(at: i)
        a.rows = a.rows.map { var r = $0; r.remove(at: i); return r }
        return a
    }

    @Test func storeAndMemoryGiveTheSameAnswers() throws {
        try withStore { (store: StoreRunData) throws in
            let memory = ExactRunFixture.a
            #expect(store.catalog.steps == memory.catalog.steps)
            #expect(store.catalog.t1Ids == memory.catalog.t1Ids)
            #expect(store.catalog.checkpointSteps == memory.catalog.checkpointSteps)
            let layout = memory.catalog.layout
            let t1 = layout.name(of: memory.catalog.t1Ids[2])
            let other = layout.name(of: (0..<layout.count).first { !memory.catalog.isT1($0) }!)
            let queries = [
                "TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT \(t1) IN EPOCH 2",
                "TOP 5 SAMPLES BY ABS CONTRIBUTION FOR WEIGHT \(other) IN EPOCH 1 WITHIN 0.5",
                "TOP 5 SAMPLES BY CONTRIBUTION FOR EACH NEURON IN fc2 IN EPOCH 3",
                "TOP 10 WEIGHTS BY SUM ABS DELTA",
                "TOP 3 WEIGHTS BY NET DELTA GROUP BY NEURON",
                "LAST 6 SAMPLES BEFORE FRACTION ABS GRADIENT > 0.004 EXCEEDS 20%",
                "LAST 6 SAMPLES BEFORE FRACTION ABS GRADIENT > 0.001 EXCEEDS 20%",
                "SELECT MEAN LOSS, MAX GRADIENT NORM PER EPOCH",
                "SELECT VALUE FOR WEIGHT \(t1) IN STEPS 3..9",
                "TOP 3 SAMPLES BY LOSS IN EPOCH 2",
            ]
            for text in queries {
                let query = try Parser.parse(text)
                let fromMemory = try Executor(runs: RunSet(runs: [("a", memory)])).execute(query)
                let fromStore = try Executor(runs: RunSet(runs: [("a", store)])).execute(query)
                #expect(withoutLabels(fromStore.answer) == withoutLabels(fromMemory.answer), "\(text)")
            }
        }
    }

    @Test func storedTrajectoryBoundsCoverTruth() throws {
        try withStore { (store: StoreRunData) throws in
            let memory = ExactRunFixture.a
            #expect(store.catalog.trajectorySteps == Array(0...memory.catalog.steps))
            for (i, t) in store.catalog.trajectorySteps.enumerated() where i % 5 == 0 || i < 3 {
                let row = try #require(try store.trajectory(index: i))
                let truth = memory.truthWeights(after: t)
                for id in truth.indices { #expect(abs(row.values[id] - truth[id]) <= row.bounds[id]) }
            }
        }
    }

    @Test func checkpointWeightsAreExact() throws {
        try withStore { (store: StoreRunData) throws in
            for t in store.catalog.checkpointSteps {
                #expect(try store.checkpointWeights(step: t) == ExactRunFixture.a.truthWeights(after: t))
            }
            #expect(try store.checkpointWeights(step: 3) == nil)
        }
    }

    @Test func rowsOfMultiStepChunksAreSlicedFromOneDecode() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path + "/lab")
        let config = [StoreColumns.Key.layers: "4,3,2", StoreColumns.Key.batchSize: "2", StoreColumns.Key.samples: "8",
                      StoreColumns.Key.epochs: "2"]
        let writer = try lab.createRun("m", manifest: RunManifest(config: config, modelSpec: "4,3,2"))
        let ids = (0..<20).map { UInt32($0 * 3 % 8) }
        let losses = (0..<20).map { Float($0) / 4 }
        try writer.append(column: StoreColumns.order, steps: 0..<10, .uint32(ids))
        try writer.append(column: StoreColumns.sampleLoss, steps: 0..<10, .float32(losses))
        try writer.append(column: StoreColumns.sampleGradientNorm, steps: 0..<10, .float32(losses))
        try writer.append(column: StoreColumns.sampleCorrect, steps: 0..<10, .int8(codes: (0..<20).map { Int8($0 % 2) }, scale: 1))
        try writer.commit(through: 9)
        let data = try StoreRunData(reader: try lab.openRun("m"))
        #expect(data.catalog.steps == 10 && data.catalog.stepsPerEpoch == 4)
        for t in 1...10 {
            let s = try data.samples(step: t)
            #expect(s.ids == ids[(2 * t - 2)..<(2 * t)].map(Int.init))
            #expect(s.loss == Array(losses[(2 * t - 2)..<(2 * t)]))
            #expect(s.correct == [0, 1])
        }
        #expect(try data.t1(step: 1) == nil)
        #expect(try data.gradientQuantiles(step: 1) == nil)
    }
}
