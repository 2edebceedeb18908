import Foundation
import KymoCore
import KymoEngine

/// The few P-sized buffer pairs (g, Δw) the trainer writes each step into, and the scheduling of
/// their one consumer, the P-sized pass (`StepGradientWork`), between the two threads.
///
/// Why apart from the deep slot queue (`RecorderPipeline`): a slot waits there for the recorder
/// for up to 16 steps, and 16 pairs of 2 × P floats (≈ 69 MB at seed scale) left the trainer
/// writing g and Δw into memory that had fallen out of cache, and the recorder reading them back
/// from DRAM beside it. Here a step's pair is consumed within a few steps — by the recorder thread
/// between slots (`runPending`), or by the training thread itself when it finds no free pair
/// (`acquire`) — and goes straight back to the trainer, so the pairs stay warm; only the small
/// per-step data wait in the deep queue.
///
/// Order and exclusivity: slots are submitted in step order; the pass runs on a prefix of the
/// pending slots, by one thread at a time (`running`, under the lock), so the epoch accumulators
/// see the steps in order whichever thread runs them, and the results are the same bits.
///
/// Every field is guarded by `lock`; so are a submitted slot's `stepBuffers` and
/// `gradientResult.isDone`: the runner marks its batch done and takes the pairs back under the
/// lock after the pass, and `complete` checks under it, which publishes the results.
package final class GradientRing: @unchecked Sendable {
    private let lock = ConditionLock()
    private let work: StepGradientWork
    private let batchLimit: Int
    private var free: [LentStepBuffers]
    private var pending: [StepSlot] = []
    private var pendingHead = 0
    private var running = false
    private var trainingRuns = 0
    private var trainingWaitSeconds = 0.0

    /// - Parameters:
    ///   - pairs: the number of (g, Δw) pairs (at least 2: the trainer holds one while another's
    ///     pass runs).
    ///   - parameterCount: P.
    ///   - batchLimit: the most steps per pass over the accumulators (1…4 use the fused kernels).
    /// - Complexity: O(pairs · P) to allocate.
    package init(pairs: Int, parameterCount: Int, work: StepGradientWork, batchLimit: Int) {
        precondition(pairs >= 2, "the gradient ring needs at least two pairs")
        free = (0..<pairs).map { _ in LentStepBuffers(count: parameterCount) }
        self.work = work
        self.batchLimit = max(1, batchLimit)
    }

    /// How many passes the training thread ran because no pair was free, and how long it waited
    /// for one while the recorder ran a pass.
    /// - Complexity: O(1).
    package var accounting: (trainingRuns: Int, trainingWaitSeconds: Double) {
        lock.withLock { (trainingRuns, trainingWaitSeconds) }
    }

    /// Pairs not lent out now.
    /// - Complexity: O(1).
    package var freePairs: Int { lock.withLock { free.count } }

    /// A free pair for the next step (training thread). With none free, runs the pass of the
    /// oldest pending steps itself, or waits while the recorder runs it.
    /// - Complexity: O(1), or one pass O(P · batch), or the wait.
    package func acquire() -> LentStepBuffers {
        while true {
            let (pair, batch): (LentStepBuffers?, ArraySlice<StepSlot>?) = lock.withLock {
                while true {
                    if let pair = free.popLast() { return (pair, nil) }
                    if !running, let batch = claimBatch(minimum: 1) {
                        trainingRuns += 1
                        return (nil, batch)
                    }
                    let since = ContinuousClock.now
                    lock.wait()
                    trainingWaitSeconds += (ContinuousClock.now - since).secondsValue
                }
            }
            if let pair { return pair }
            if let batch { runClaimed(batch) }
        }
    }

    /// Queues a filled slot's pass (training thread, in step order; the slot holds its pair).
    /// - Complexity: O(1) amortized.
    package func submit(_ slot: StepSlot) {
        precondition(slot.stepBuffers != nil, "step \(slot.step) was submitted without its gradient buffers")
        lock.withLock {
            pending.append(slot)
            lock.broadcast()
        }
    }

    /// Runs the pending passes (recorder thread, between slots) while at least `minimum` steps
    /// wait and no other thread is running one.
    /// - Complexity: O(P · pending steps).
    package func runPending(minimum: Int) {
        while let batch = lock.withLock({ running ? nil : claimBatch(minimum: minimum) }) {
            runClaimed(batch)
        }
    }

    /// Returns once `slot`'s pass is done (recorder thread, before the slot's step-ordered
    /// work): runs the pending passes up to it, or waits while another thread runs them. A slot
    /// never submitted here (direct use) returns at once.
    /// - Complexity: O(P · steps run), or the wait.
    package func complete(_ slot: StepSlot) {
        while true {
            let batch: ArraySlice<StepSlot>? = lock.withLock {
                while true {
                    if slot.gradientResult.isDone || !isPending(slot) { return nil }
                    if !running, let batch = claimBatch(minimum: 1) { return batch }
                    lock.wait()
                }
            }
            guard let batch else { return }
            runClaimed(batch)
        }
    }

    /// Whether `slot` waits for its pass (under the lock).
    private func isPending(_ slot: StepSlot) -> Bool {
        pending[pendingHead...].contains { $0 === slot } || running
    }

    /// Claims up to `batchLimit` consecutive pending steps of one epoch (under the lock), if at
    /// least `minimum` wait.
    private func claimBatch(minimum: Int) -> ArraySlice<StepSlot>? {
        let available = pending.count - pendingHead
        guard available >= max(1, minimum) else { return nil }
        var taken = 1
        while taken < batchLimit && taken < available && StepGradientWork.joinsNext(pending[pendingHead + taken - 1]) {
            taken += 1
        }
        let batch = pending[pendingHead..<(pendingHead + taken)]
        pendingHead += taken
        if pendingHead == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingHead = 0
        }
        running = true
        return ArraySlice(Array(batch))
    }

    /// Runs a claimed batch outside the lock, then returns its pairs and publishes the results.
    private func runClaimed(_ batch: ArraySlice<StepSlot>) {
        work.run(batch)
        lock.withLock {
            for slot in batch {
                if let pair = slot.stepBuffers { free.append(pair) }
                slot.stepBuffers = nil
                slot.gradientResult.isDone = true
            }
            running = false
            lock.broadcast()
        }
    }
}
