import Testing
@testable import KymoRecorder

@Suite struct CheckpointScheduleTests {
    @Test func checkpointCostStaysNearTheShare() throws {
        // 3 ms steps, 40 ms checkpoints, ε = 5 %: one every ⌈0.04 / (0.05 · 0.003)⌉ = 267 steps.
        var schedule = try CheckpointSchedule(overheadShare: 0.05, initialCheckpointSeconds: 0.04)
        var steps: [Int] = []
        var compute = 0.0, checkpointTime = 0.0
        for step in 0..<5000 {
            compute += 0.003
            if schedule.stepFinished(computeSeconds: 0.003) {
                steps.append(step)
                checkpointTime += 0.04
                schedule.checkpointWritten(seconds: 0.04)
            }
        }
        #expect(checkpointTime <= 0.05 * compute)
        #expect(checkpointTime >= 0.05 * compute - 0.04 - 1e-9) // uses what it may
        let gaps = zip(steps.dropFirst(), steps).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 == 267 || $0 == 266 })
    }

    @Test func adaptsToMeasuredCost() throws {
        var schedule = try CheckpointSchedule(overheadShare: 0.05, initialCheckpointSeconds: 0.001)
        var count = 0
        for _ in 0..<1000 where schedule.stepFinished(computeSeconds: 0.003) {
            count += 1
            schedule.checkpointWritten(seconds: 0.1) // far slower than first thought
        }
        #expect(schedule.estimatedCheckpointSeconds > 0.08) // halfway to each new measurement
        #expect(count < 10) // after the first few, one per ~667 steps
        #expect(throws: RecorderError.self) { try CheckpointSchedule(overheadShare: 0, initialCheckpointSeconds: 1) }
    }

    /// The measured write costs the schedule is charged with: the latest and the total, and
    /// nothing recorded for a duration that is not one.
    @Test func writeCostsKeepTheLatestAndTheTotal() {
        let costs = CheckpointWriteCosts()
        #expect(costs.latest == nil)
        costs.record(seconds: 0.02)
        costs.record(seconds: .nan)
        costs.record(seconds: -1)
        costs.record(seconds: 0.005)
        #expect(costs.latest == 0.005)
        #expect(costs.total.count == 2)
        #expect(abs(costs.total.seconds - 0.025) < 1e-12)
    }
}
