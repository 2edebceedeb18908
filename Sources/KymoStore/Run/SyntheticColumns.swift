import KymoCore

/// Deterministic column values for the crash harness, the tests and the benchmarks: a value
/// depends only on (column seed, step, index), so any process can check what another wrote.
package enum SyntheticColumns {
    /// `width` values of step `step`: a slow random walk per index (like weights under SGD).
    /// - Complexity: O(width).
    package static func row(seed: UInt64, step: Int, width: Int) -> [Float] {
        (0..<width).map { i in
            let h = XXH3.hash(UInt64(i), seed: seed)
            let base = Float(Int64(bitPattern: h) >> 40) * 0x1p-20
            let drift = Float(Int64(bitPattern: XXH3.hash(UInt64(step) << 20 | UInt64(i), seed: seed)) >> 52) * 0x1p-20
            return base + Float(step) * 1e-4 + drift
        }
    }

    /// Rows `steps`, concatenated.
    /// - Complexity: O(steps × width).
    package static func rows(seed: UInt64, steps: Range<Int>, width: Int) -> [Float] {
        steps.flatMap { row(seed: seed, step: $0, width: width) }
    }

    /// Writes `blocks` blocks of `stepsPerBlock` steps to `writer` starting at its committed
    /// end: columns "t0/loss" (1 value per step), "t0/ids" (UInt32 per step) and "t2/w"
    /// (`width` per step), a checkpoint every 4 blocks, one commit per block. Calls `committed`
    /// with the last committed step after each commit.
    /// - Complexity: O(blocks × stepsPerBlock × width).
    package static func writeBlocks(_ writer: RunWriter, blocks: Int, stepsPerBlock: Int, width: Int,
                                    committed: (Int) -> Void) throws(StoreError) {
        for _ in 0..<blocks {
            let start = writer.committedSteps.upperBound
            let steps = start..<(start + stepsPerBlock)
            try writer.append(column: "t0/loss", steps: steps, .float32(rows(seed: 1, steps: steps, width: 1)))
            try writer.append(column: "t0/ids", steps: steps, .uint32(steps.map { UInt32($0 * 7 % 1000) }))
            try writer.append(column: "t2/w", steps: steps, .float32(rows(seed: 2, steps: steps, width: width)))
            if (start / stepsPerBlock) % 4 == 0 {
                let state = rows(seed: 3, steps: steps.upperBound - 1..<steps.upperBound, width: 64)
                let bytes = state.withUnsafeBytes { Array($0) }
                try writer.writeCheckpoint(step: steps.upperBound - 1, bytes: bytes, hash: XXH3.hash(bytes))
            }
            try writer.commit(through: steps.upperBound - 1)
            committed(steps.upperBound - 1)
        }
    }
}
