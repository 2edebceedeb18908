import KymoCore
import KymoEngine
@testable import KymoReplay
import Testing

/// Damaged or altered inputs are detected and named.
@Suite struct ReplayVerificationTests {
    let f = Fixture.shared

    /// The fixture's source with the checkpoint at `step` altered: one weight of fc2 moved by 0.5.
    func altered(at step: Int, relist: Bool, keepSteps: Bool = true) -> InMemoryCheckpointSource {
        var source = f.source
        let i = source.states.firstIndex { $0.completedSteps == step }!
        let id = try! f.layout.id(named: "fc2[4,11]")
        source.states[i].parameters[id] += 0.5
        if relist { source.listedHashes[i] = source.states[i].contentHash }
        if !keepSteps { source.steps = [] }
        return source
    }

    func replay(_ source: InMemoryCheckpointSource, _ range: Range<Int>, parallelism: Int = 2) throws -> ReplayResult {
        var request = ReplayRequest(steps: range)
        request.parallelism = parallelism
        return try SegmentReplayer(source: source, training: f.training).replay(request)
    }

    @Test func aCheckpointAlteredAfterItWasListedIsRefusedAtRestore() {
        let source = altered(at: 14, relist: false)
        #expect(throws: ReplayError.self) { try replay(source, 15..<20) }
        do { _ = try replay(source, 15..<20) } catch {
            guard case let .corruptCheckpoint(step, message) = error as? ReplayError else { Issue.record("\(error)"); return }
            #expect(step == 14)
            #expect(message.contains("hashes to"))
            #expect((error as? ReplayError)?.description.hasPrefix("checkpoint at step 14:") == true)
        }
    }

    @Test func aRelistedAlteredStartCheckpointDivergesAtItsStep() {
        let source = altered(at: 14, relist: true)
        do { _ = try replay(source, 14..<28); Issue.record("no error") } catch {
            guard case let .diverged(step, segment, _) = error as? ReplayError else { Issue.record("\(error)"); return }
            #expect(step == 14)
            #expect(segment == 14..<21)
        }
    }

    @Test func aCheckpointPassedDuringReplayThatDiffersIsNamedWithItsSegment() {
        for parallelism in [1, 2] {
            let source = altered(at: 21, relist: true)
            do { _ = try replay(source, 0..<30, parallelism: parallelism); Issue.record("no error") } catch {
                guard case let .diverged(step, segment, message) = error as? ReplayError else { Issue.record("\(error)"); continue }
                #expect(step == 21)
                #expect(segment == 14..<21)
                #expect(message.contains("checkpoint at step 21"))
                #expect(message.contains("every recorded batch and loss"))
            }
        }
        // Without recorded steps the error still names the checkpoint and the segment.
        let bare = altered(at: 21, relist: true, keepSteps: false)
        do { _ = try replay(bare, 0..<30); Issue.record("no error") } catch {
            guard case let .diverged(step, segment, message) = error as? ReplayError else { Issue.record("\(error)"); return }
            #expect(step == 21 && segment == 14..<21)
            #expect(message.contains("somewhere in steps 14...20"))
        }
    }

    @Test func perStepHashesNameTheExactStepWhoseUpdateDiffers() throws {
        var source = try InMemoryCheckpointSource.record(config: f.config, training: f.training, steps: 21, every: 7, stepHashes: true)
        #expect(try SegmentReplayer(source: source, training: f.training).replay(ReplayRequest(steps: 0..<21)).verifiedCheckpoints == [7, 14, 21])
        // Pretend the run's update of step 10 differed: its recorded state hash is not what replay gives.
        source.steps[10].stateHash! ^= 1
        do { _ = try replay(source, 0..<21, parallelism: 1); Issue.record("no error") } catch {
            guard case let .diverged(step, segment, message) = error as? ReplayError else { Issue.record("\(error)"); return }
            #expect(step == 11)
            #expect(segment == 7..<14)
            #expect(message.contains("after step 10"))
        }
    }

    @Test func theEarliestDivergenceWinsInAParallelReplay() {
        // Two altered checkpoints; both groups fail; the error is the earlier one.
        var source = altered(at: 7, relist: true)
        let i = source.states.firstIndex { $0.completedSteps == 35 }!
        source.states[i].parameters[0] += 1
        source.listedHashes[i] = source.states[i].contentHash
        do { _ = try replay(source, 0..<f.totalSteps, parallelism: 2); Issue.record("no error") } catch {
            guard case let .diverged(step, _, _) = error as? ReplayError else { Issue.record("\(error)"); return }
            #expect(step == 7)
        }
    }

    @Test func analteredRecordedDataOrderIsNamedAtItsStep() {
        var source = f.source
        source.steps[9].sampleIDs.swapAt(3, 40)
        do { _ = try replay(source, 0..<14); Issue.record("no error") } catch {
            guard case let .dataOrderMismatch(step, segment, message) = error as? ReplayError else { Issue.record("\(error)"); return }
            #expect(step == 9)
            #expect(segment == 7..<14)
            #expect(message.contains("batch position 3"))
        }
    }

    @Test func aCheckpointWithAnotherDataOrderKeyIsRefused() {
        var source = f.source
        let i = source.states.firstIndex { $0.completedSteps == 7 }!
        source.states[i].dataOrderRNG = CounterRNG(key: 99)
        source.listedHashes[i] = source.states[i].contentHash
        #expect(throws: ReplayError.self) { try replay(source, 8..<10) }
        do { _ = try replay(source, 8..<10) } catch {
            guard case .dataOrderMismatch(step: 7, _, _) = error as? ReplayError else { Issue.record("\(error)"); return }
        }
    }

    @Test func aCheckpointOfAnotherConfigIsRefused() {
        var source = f.source
        let i = source.states.firstIndex { $0.completedSteps == 7 }!
        source.states[i].config.optimizer.learningRate = 0.02
        source.listedHashes[i] = source.states[i].contentHash
        do { _ = try replay(source, 8..<10); Issue.record("no error") } catch {
            guard case .configMismatch(checkpointStep: 7, _) = error as? ReplayError else { Issue.record("\(error)"); return }
        }
    }

    @Test func aDifferentDataSetIsRefused() {
        var other = f.training
        other.features[100] += 0.25
        #expect(throws: ReplayError.self) { try SegmentReplayer(source: f.source, training: other) }
        do { _ = try SegmentReplayer(source: f.source, training: other) } catch {
            guard case let .datasetMismatch(expected, count, found, foundCount, _) = error else { Issue.record("\(error)"); return }
            #expect(expected == f.training.fingerprint && found == other.fingerprint)
            #expect(count == foundCount)
            #expect(error.description.contains("refusing to replay"))
        }
    }

    @Test func noCheckpointBeforeTheRangeIsAnError() {
        var source = f.source
        source.states.removeFirst()
        source.listedHashes.removeFirst()
        #expect(throws: ReplayError.noCheckpoint(atOrBefore: 3)) { try replay(source, 3..<5) }
    }
}
