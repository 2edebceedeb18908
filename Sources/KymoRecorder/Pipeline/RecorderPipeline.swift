import Foundation
import KymoCore

/// The bounded hand-off between the training thread and the recorder thread.
///
/// A fixed pool of reusable slots (per-step buffers, allocated once). The training thread
/// `acquire()`s a free slot — waiting while all are in flight, which is the back-pressure: nothing
/// is ever dropped — fills it (copies the step's factors, gradient, update in), and `submit(_:)`s
/// it. The recorder thread processes submitted slots strictly in submission order, each with its
/// sequence number, and returns them to the pool. `finish()` drains what was submitted, joins the
/// thread and rethrows the first worker error.
///
/// Ownership protocol (why this is race-free): a slot changes hands only under the lock (free list
/// ⇄ training thread ⇄ queue ⇄ worker), so every write to it happens-before every read by the next
/// owner. One exception, also under the lock: a helping `acquire` may *claim* a submitted slot the
/// worker has not reached (queued, or later in the worker's batch) and prepare it outside the lock;
/// a slot is claimed by one side only (`helperClaimed`, `workerClaimed`), the worker waits while a
/// helper is on a slot of its batch (`helperBusy`, cleared under the lock), and no slot of a batch
/// reaches `process` or the free list before every claim on the batch is settled.
///
/// Errors: if `process` throws, the worker stops (later slots are not processed), and the next
/// `acquire()`/`submit(_:)` on the training thread, and `finish()`, throw
/// `RecorderError.workerFailed(sequence:message:)` — training stops with the worker's error.
/// The original error is available as `failure`.
///
/// Dropping the pipeline without `finish()` drains and joins the thread too (errors are lost).
package final class RecorderPipeline<Slot: AnyObject>: @unchecked Sendable {
    private let core: Core

    /// Starts the recorder thread.
    /// - Parameters:
    ///   - slots: the reusable buffers; their number bounds how far training may run ahead.
    ///   - process: called on the recorder thread for each submitted slot, with its sequence
    ///     number (0, 1, 2, …), in order.
    /// - Complexity: O(slots).
    package convenience init(slots: [Slot], process: @escaping @Sendable (Slot, Int) throws -> Void) {
        self.init(slots: slots, batchLimit: 1, joinsNext: { _ in false }) { batch, first in
            for (i, slot) in batch.enumerated() { try process(slot, first + i) }
        }
    }

    /// Starts the recorder thread, handing it up to `batchLimit` consecutive slots at once where
    /// allowed: while the last slot taken `joinsNext`, the worker takes the one submitted after it
    /// (waiting for it unless the pipeline is closing), and processes the batch in one call (the
    /// recorder reads the steps' P-sized vectors in one pass). Order and results are those of one
    /// slot at a time.
    /// - Parameters:
    ///   - batchLimit: the most slots per call; at most `slots.count − 1` are used (the training
    ///     thread must be able to hold one while the worker waits, or they would deadlock).
    ///   - joinsNext: whether a slot may be processed together with the next one (called under
    ///     the lock: keep it O(1)).
    ///   - prepare: the worker's side of `acquire(helping:)`: run on each slot of a batch, in
    ///     order, before `process`, unless a helper has taken that slot (the worker then waits
    ///     for the helper to finish it); nil: no per-slot preparation.
    ///   - helpBacklog: a helping `acquire` helps before it takes a free slot while at least this
    ///     many in-flight slots are unclaimed (the recorder is that far behind); it always helps
    ///     instead of waiting. 8 unless given (`RecordingOptions.helpBacklog` passes its own).
    ///   - process: called with one or more consecutive slots in submission order and the first
    ///     one's sequence number (a failure is reported at that sequence number).
    /// - Complexity: O(slots).
    package init(slots: [Slot], batchLimit: Int, joinsNext: @escaping @Sendable (Slot) -> Bool,
                 prepare: (@Sendable (Slot) -> Void)? = nil, helpBacklog: Int = 8,
                 process: @escaping @Sendable ([Slot], Int) throws -> Void) {
        precondition(!slots.isEmpty, "the pipeline needs at least one slot")
        let core = Core(slots: slots, batchLimit: max(1, min(batchLimit, slots.count - 1)), joinsNext: joinsNext,
                        prepare: prepare, helpBacklog: max(1, helpBacklog), process: process)
        self.core = core
        // The thread holds the core, not the pipeline, so dropping the pipeline runs deinit.
        let thread = Thread { core.workerLoop() }
        thread.name = "kymo-recorder"
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit { core.close() }

    /// The number of slots the worker has finished.
    /// - Complexity: O(1).
    package var processed: Int { core.lock.withLock { core.processedCount } }

    /// Seconds the training thread spent in `acquire()` waiting for a free slot (the recorder
    /// falling behind), the recorder thread's CPU seconds so far (complete once `finish()` has
    /// returned), and how many slots `acquire(helping:)` helped with.
    /// - Complexity: O(1).
    package var accounting: (acquireWaitSeconds: Double, workerCPUSeconds: Double, helped: Int) {
        core.lock.withLock { (core.acquireWaitSeconds, core.workerCPUSeconds, core.helped) }
    }

    /// The worker's error, if it failed.
    /// - Complexity: O(1).
    package var failure: (any Error)? { core.lock.withLock { core.error?.error } }

    /// Takes a free slot, waiting while every slot is in flight. With `help`, instead of waiting —
    /// and before taking a free slot while `helpBacklog` in-flight slots are unclaimed — the
    /// calling thread runs `help` on a submitted slot the recorder has not reached yet (the
    /// newest first, so the two threads work at opposite ends of the queue; the recorder takes
    /// the oldest), as long as there is one: the recorder then finds that slot's slot-only work
    /// done (`StepPreparer`) and skips it. `help` must be a pure function of the slot whose
    /// result does not depend on the thread; it must not throw (keep errors in the slot).
    /// - Throws: the worker's failure, or `RecorderError.pipelineClosed` after `finish()`.
    /// - Complexity: O(slots) plus the wait or the help.
    package func acquire(helping help: ((Slot) -> Void)? = nil) throws -> Slot {
        let core = core
        while true {
            let (free, claimed): (Slot?, Slot?) = try core.lock.withLock {
                while true {
                    if let failed = core.error { throw Core.wrap(failed) }
                    if core.closed { throw RecorderError.pipelineClosed }
                    // Behind by a backlog of unclaimed slots: help first even if a slot is free.
                    if help != nil, core.unclaimedInFlight() >= core.helpBacklog, let slot = core.claimForHelper() { return (nil, slot) }
                    if let slot = core.free.popLast() { return (slot, nil) }
                    if help != nil, let slot = core.claimForHelper() { return (nil, slot) }
                    let waitedSince = ContinuousClock.now
                    core.lock.wait()
                    core.acquireWaitSeconds += Self.seconds(since: waitedSince)
                }
            }
            if let free { return free }
            if let claimed, let help {
                help(claimed)
                core.lock.withLock {
                    core.helperBusy.remove(ObjectIdentifier(claimed))
                    core.helped += 1
                    core.lock.broadcast()
                }
            }
        }
    }

    /// Hands a filled slot to the recorder thread; returns its sequence number.
    /// - Throws: the worker's failure (the slot is then returned to the pool unprocessed), or
    ///   `RecorderError.pipelineClosed`.
    /// - Complexity: O(1) amortized.
    @discardableResult
    package func submit(_ slot: Slot) throws -> Int {
        let core = core
        return try core.lock.withLock {
            if let failed = core.error {
                core.free.append(slot)
                throw Core.wrap(failed)
            }
            if core.closed { throw RecorderError.pipelineClosed }
            let sequence = core.nextSequence
            core.nextSequence += 1
            core.queue.append((sequence, slot))
            core.lock.broadcast()
            return sequence
        }
    }

    /// Returns an acquired slot unused (e.g. training stopped before filling it).
    /// - Complexity: O(1).
    package func giveBack(_ slot: Slot) {
        core.lock.withLock {
            core.free.append(slot)
            core.lock.broadcast()
        }
    }

    /// Processes everything submitted, stops the recorder thread and waits for it.
    /// - Throws: `RecorderError.workerFailed` when the worker failed at any point.
    /// - Complexity: the remaining work.
    package func finish() throws {
        core.close()
        if let failed = core.lock.withLock({ core.error }) { throw Core.wrap(failed) }
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// The state shared by both threads; every field is guarded by `lock`.
    private final class Core: @unchecked Sendable {
        let lock = ConditionLock()
        var free: [Slot]
        var queue: [(sequence: Int, slot: Slot)] = []
        var queueHead = 0
        var nextSequence = 0
        var closed = false
        var workerExited = false
        var error: (sequence: Int, error: any Error)?
        var processedCount = 0
        var acquireWaitSeconds = 0.0
        var workerCPUSeconds = 0.0
        /// Queued slots a helping `acquire` claimed (being helped, or done); cleared when the
        /// worker takes them.
        var helperClaimed: Set<ObjectIdentifier> = []
        /// Claimed slots whose help is still running (the worker waits for them).
        var helperBusy: Set<ObjectIdentifier> = []
        var helped = 0
        /// A helping `acquire` helps before taking a free slot once this many are unclaimed.
        let helpBacklog: Int
        let batchLimit: Int
        let joinsNext: @Sendable (Slot) -> Bool
        let prepare: (@Sendable (Slot) -> Void)?
        let process: @Sendable ([Slot], Int) throws -> Void
        /// The batch the worker is on (a helper may still take its slots the worker has not
        /// reached), and the slots of it the worker has claimed.
        var workerBatch: [Slot] = []
        var workerClaimed: Set<ObjectIdentifier> = []

        init(slots: [Slot], batchLimit: Int, joinsNext: @escaping @Sendable (Slot) -> Bool,
             prepare: (@Sendable (Slot) -> Void)?, helpBacklog: Int, process: @escaping @Sendable ([Slot], Int) throws -> Void) {
            free = slots
            self.helpBacklog = helpBacklog
            self.batchLimit = batchLimit
            self.joinsNext = joinsNext
            self.prepare = prepare
            self.process = process
        }

        /// The newest in-flight slot (queued, or in the worker's batch and not reached yet) that
        /// nobody has claimed, now claimed by the helper; nil if none.
        func claimForHelper() -> Slot? {
            let candidates = queue[queueHead...].reversed().map(\.slot) + workerBatch.reversed()
            for slot in candidates {
                let id = ObjectIdentifier(slot)
                if !helperClaimed.contains(id) && !workerClaimed.contains(id) {
                    helperClaimed.insert(id)
                    helperBusy.insert(id)
                    return slot
                }
            }
            return nil
        }

        /// In-flight slots nobody has claimed: the recorder's backlog of slot-only work.
        func unclaimedInFlight() -> Int {
            var n = 0
            for entry in queue[queueHead...] where !helperClaimed.contains(ObjectIdentifier(entry.slot)) { n += 1 }
            for slot in workerBatch where !helperClaimed.contains(ObjectIdentifier(slot)) && !workerClaimed.contains(ObjectIdentifier(slot)) { n += 1 }
            return n
        }

        /// Prepares the batch's slots in order on the worker, each unless a helper took it
        /// (waiting for a helper still on it); without `prepare`, only claims them.
        func prepareBatch(_ batch: [Slot]) {
            for slot in batch {
                let id = ObjectIdentifier(slot)
                let mine: Bool = lock.withLock {
                    while helperBusy.contains(id) { lock.wait() }
                    if helperClaimed.contains(id) { return false }
                    workerClaimed.insert(id)
                    return true
                }
                if mine, let prepare { prepare(slot) }
            }
        }

        static func wrap(_ failed: (sequence: Int, error: any Error)) -> RecorderError {
            .workerFailed(sequence: failed.sequence, message: String(describing: failed.error))
        }

        /// Closes the queue and waits until the worker has drained it and exited.
        func close() {
            lock.withLock {
                closed = true
                lock.broadcast()
                while !workerExited { lock.wait() }
            }
        }

        func workerLoop() {
            while true {
                // Consecutive slots while each joins the next, up to the batch limit; waits for
                // the next submission when the batch could still grow (unless closing).
                let next: (sequence: Int, slots: [Slot])? = lock.withLock {
                    while true {
                        if error != nil { return nil }
                        let available = queue.count - queueHead
                        if available == 0 {
                            if closed { return nil }
                            lock.wait()
                            continue
                        }
                        var taken = 1
                        while taken < batchLimit && taken < available && joinsNext(queue[queueHead + taken - 1].slot) { taken += 1 }
                        let couldGrow = taken < batchLimit && taken == available && joinsNext(queue[queueHead + taken - 1].slot)
                        if couldGrow && !closed {
                            lock.wait()
                            continue
                        }
                        let first = queue[queueHead].sequence
                        let batch = (0..<taken).map { queue[queueHead + $0].slot }
                        queueHead += taken
                        if queueHead == queue.count {
                            queue.removeAll(keepingCapacity: true)
                            queueHead = 0
                        }
                        workerBatch = batch
                        return (first, batch)
                    }
                }
                guard let (sequence, batch) = next else { break }
                prepareBatch(batch)
                // Every slot of the batch is claimed and no helper is on one any more.
                lock.withLock {
                    workerBatch = []
                    for slot in batch {
                        helperClaimed.remove(ObjectIdentifier(slot))
                        workerClaimed.remove(ObjectIdentifier(slot))
                    }
                }
                do {
                    try process(batch, sequence)
                    lock.withLock {
                        processedCount += batch.count
                        free.append(contentsOf: batch)
                        lock.broadcast()
                    }
                } catch {
                    lock.withLock {
                        self.error = (sequence, error)
                        free.append(contentsOf: batch)
                        lock.broadcast()
                    }
                    break
                }
            }
            let cpu = ThreadCPUClock.seconds()
            lock.withLock {
                workerCPUSeconds = cpu
                workerExited = true
                lock.broadcast()
            }
        }
    }
}
