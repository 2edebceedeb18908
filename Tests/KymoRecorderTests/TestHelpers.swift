import KymoCore
@testable import KymoRecorder

/// Deterministic test data from CounterRNG.
func randomFloats(_ count: Int, key: UInt64, scale: Float = 1) -> [Float] {
    var rng = CounterRNG(key: key)
    return (0..<count).map { _ in (rng.nextFloat() * 2 - 1) * scale }
}

/// Runs `body` with a LayerFactors view over the arrays.
func withFactors<R>(batch: Int, inputs: Int, outputs: Int, a: [Float], d: [Float],
                    _ body: (LayerFactors) throws -> R) throws -> R {
    try a.withUnsafeBufferPointer { ap in
        try d.withUnsafeBufferPointer { dp in
            try body(LayerFactors(batch: batch, inputs: inputs, outputs: outputs, activations: ap, deltas: dp))
        }
    }
}
