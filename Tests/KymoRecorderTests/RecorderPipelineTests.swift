#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import KymoRecorder

final class TestSlot: @unchecked Sendable {
    var values: [Int] = []
}

struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }

@Suite struct RecorderPipelineTests {
    @Test func processesEverySlotInOrderWithReusedBuffers() throws {
        let seen = Mutex<[Int]>([])
        let slots = (0..<3).map { _ in TestSlot() }
        let pipeline = RecorderPipeline(slots: slots) { slot, sequence in
            #expect(slot.values == [sequence, sequence * 2])
            seen.withLock { $0.append(sequence) }
        }
        for step in 0..<200 {
            let slot = try pipeline.acquire()
            slot.values = [step, step * 2]
            #expect(try pipeline.submit(slot) == step)
        }
        try pipeline.finish()
        #expect(seen.withLock { $0 } == Array(0..<200))
        #expect(pipeline.processed == 200)
        #expect(throws: RecorderError.pipelineClosed) { try pipeline.acquire() }
    }

    /// With `joinsNext`, slots come in batches of consecutive slots up to the limit (the worker
    /// waits for the rest), cut after one that does not join (every 5th here) and at `finish()`;
    /// the limit is capped at slots − 1, so a small pool cannot deadlock.
    @Test(arguments: [(2, 2), (4, 2), (5, 4)]) func batchesConsecutiveSlotsWhereAllowed(capacity: Int, limit: Int) throws {
        let batches = Mutex<[[Int]]>([])
        let pipeline = RecorderPipeline(slots: (0..<capacity).map { _ in TestSlot() }, batchLimit: limit,
                                        joinsNext: { $0.values[0] % 5 != 4 }) { batch, first in
            #expect(batch.map { $0.values[0] } == Array(first..<(first + batch.count)))
            batches.withLock { $0.append(batch.map { $0.values[0] }) }
        }
        for step in 0..<23 {
            let slot = try pipeline.acquire()
            slot.values = [step]
            try pipeline.submit(slot)
        }
        try pipeline.finish()
        let seen = batches.withLock { $0 }
        #expect(seen.flatMap { $0 } == Array(0..<23))
        let cap = min(limit, capacity - 1)
        // A batch ends at a slot that does not join, at the cap, or at the last slot.
        #expect(seen.allSatisfy { b in b.dropLast().allSatisfy { $0 % 5 != 4 } && b.count <= cap })
        #expect(seen.allSatisfy { b in b.last! % 5 == 4 || b.count == cap || b.last! == 22 })
        #expect(pipeline.processed == 23)
    }

    /// A helping `acquire` works on queued slots, newest first, each once, while the worker is
    /// busy; the worker waits for a slot being helped and still processes every slot in order.
    @Test func helpingAcquireWorksOnQueuedSlotsNewestFirst() throws {
        let go = Mutex<Bool>(false)
        let order = Mutex<[Int]>([])
        let helpedSeen = Mutex<[Int]>([])
        let pipeline = RecorderPipeline(slots: (0..<4).map { _ in TestSlot() }) { slot, sequence in
            // The first slot holds the worker until the helper has done two.
            while sequence == 0 && !go.withLock({ $0 }) { usleep(100) }
            order.withLock { $0.append(slot.values[0]) }
            if slot.values.count > 1 { helpedSeen.withLock { $0.append(slot.values[0]) } }
        }
        for step in 0..<4 {
            let slot = try pipeline.acquire()
            slot.values = [step]
            try pipeline.submit(slot)
        }
        // 1, 2, 3 are queued and 0 is with the worker or still queued: helping takes the queued
        // ones newest first, each once, then waits for a free slot.
        var helped: [Int] = []
        let slot = try pipeline.acquire(helping: { s in
            helped.append(s.values[0])
            s.values.append(-1)   // marks the slot as helped
            if helped.count == 2 { go.withLock { $0 = true } }
        })
        #expect(helped.count >= 2 && helped == helped.sorted(by: >) && Set(helped).count == helped.count, "\(helped)")
        slot.values = [4]
        try pipeline.submit(slot)
        try pipeline.finish()
        #expect(order.withLock { $0 } == [0, 1, 2, 3, 4])
        #expect(helpedSeen.withLock { $0 } == helped.sorted())
        #expect(pipeline.accounting.helped == helped.count)
    }

    /// With a worker-side `prepare` and a backlog of 1: while the worker is inside its batch
    /// (held on the batch's first slot), the helping `acquire` prepares the queued slot and then
    /// the batch's later slots, newest first; every slot is prepared exactly once, by one side,
    /// before `process` sees it, and order is kept.
    @Test func helperTakesTheLaterSlotsOfTheWorkersBatch() throws {
        let go = Mutex<Bool>(false), holding = Mutex<Bool>(false)
        let batches = Mutex<[[Int]]>([])
        let pipeline = RecorderPipeline(slots: (0..<6).map { _ in TestSlot() }, batchLimit: 4, joinsNext: { _ in true },
                                        prepare: { slot in
                                            if slot.values[0] == 0 {
                                                holding.withLock { $0 = true }
                                                while !go.withLock({ $0 }) { usleep(100) }
                                            }
                                            slot.values.append(1)   // prepared by the worker
                                        }, helpBacklog: 1) { batch, first in
            #expect(batch.map { $0.values[0] } == Array(first..<(first + batch.count)))
            for slot in batch { #expect(slot.values.count == 2, "slot \(slot.values[0]) prepared \(slot.values.count - 1) times") }
            batches.withLock { $0.append(batch.map { $0.values[0] }) }
        }
        for step in 0..<5 {
            let slot = try pipeline.acquire()
            slot.values = [step]
            try pipeline.submit(slot)
        }
        while !holding.withLock({ $0 }) { usleep(100) }   // the worker holds [0, 1, 2, 3]; 4 is queued
        var helped: [Int] = []
        let last = try pipeline.acquire(helping: { s in
            helped.append(s.values[0])
            s.values.append(2)   // prepared by the helper
            if helped.count == 2 { go.withLock { $0 = true } }
        })
        #expect(Array(helped.prefix(2)) == [4, 3], "\(helped)")
        #expect(helped == helped.sorted(by: >) && helped.allSatisfy { (1...4).contains($0) }, "\(helped)")
        go.withLock { $0 = true }
        last.values = [5]
        try pipeline.submit(last)
        try pipeline.finish()
        #expect(batches.withLock { $0 }.flatMap { $0 } == Array(0..<6))
        #expect(pipeline.accounting.helped == helped.count)
    }

    @Test func backPressureBoundsHowFarTrainingRunsAhead() throws {
        let capacity = 2
        let gate = Atomic<Int>(0) // worker may process sequence < gate
        let pipeline = RecorderPipeline(slots: (0..<capacity).map { _ in TestSlot() }) { _, sequence in
            while gate.load(ordering: .acquiring) <= sequence { usleepShort() }
        }
        for step in 0..<50 {
            // Before acquiring, at most `capacity` slots are in flight: the submitted ones not yet
            // processed.
            let slot = try pipeline.acquire()
            #expect(step - pipeline.processed <= capacity - 1)
            try pipeline.submit(slot)
            gate.store(step + 1 - capacity + 1, ordering: .releasing) // let the worker trail
        }
        gate.store(Int.max, ordering: .releasing)
        try pipeline.finish()
        #expect(pipeline.processed == 50)
    }

    @Test func workerErrorStopsTrainingWithThatError() throws {
        let pipeline = RecorderPipeline(slots: [TestSlot(), TestSlot()]) { _, sequence in
            if sequence == 5 { throw Boom() }
        }
        var stoppedAt: Int?
        for step in 0..<1000 {
            do {
                let slot = try pipeline.acquire()
                try pipeline.submit(slot)
            } catch let error as RecorderError {
                #expect(error == .workerFailed(sequence: 5, message: "boom"))
                stoppedAt = step
                break
            }
        }
        #expect(stoppedAt != nil)
        #expect(stoppedAt! <= 5 + 2 + 1)
        #expect(throws: RecorderError.workerFailed(sequence: 5, message: "boom")) { try pipeline.finish() }
        #expect(pipeline.processed == 5)
        #expect(pipeline.failure is Boom)
    }

    @Test func droppingWithoutFinishJoinsTheWorker() throws {
        let count = Atomic<Int>(0)
        do {
            let pipeline = RecorderPipeline(slots: [TestSlot()]) { _, _ in count.add(1, ordering: .relaxed) }
            let slot = try pipeline.acquire()
            try pipeline.submit(slot)
            _ = pipeline
        }
        // deinit drained and joined: the submitted slot was processed.
        #expect(count.load(ordering: .relaxed) == 1)
    }
}

func usleepShort() {
    #if canImport(Glibc)
    _ = Glibc.usleep(50)
    #endif
}
