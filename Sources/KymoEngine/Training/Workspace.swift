/// Per-batch-size scratch buffers of the trainer, allocated once per batch size and reused.
///
/// For Dense layer l (0-based, L layers) with widths in = w[l], out = w[l+1]:
/// inputs[l] (B, in) is a_l (inputs[0] = x, the gathered batch); z[l] (B, out) the pre-activation;
/// act[l] (B, out) the activation output of hidden layers; inputs[l+1] = act[l]·mask[l] with
/// dropout (its own buffer) or act[l] itself without; delta[l] (B, out) = ∂ℓ_s/∂z.
final class Workspace {
    let batch: Int
    let widths: [Int]
    let z: [FloatBuffer]
    let act: [FloatBuffer]
    let mask: [FloatBuffer]
    let dropped: [FloatBuffer]
    let delta: [FloatBuffer]
    let x: FloatBuffer
    let losses: FloatBuffer
    let sampleNorms: FloatBuffer
    let ids: UnsafeMutableBufferPointer<Int>
    let labels: UnsafeMutableBufferPointer<Int32>
    let correct: UnsafeMutableBufferPointer<UInt8>

    init(batch: Int, widths: [Int], dropout: Bool) {
        self.batch = batch
        self.widths = widths
        let layerCount = widths.count - 1
        x = FloatBuffer(count: batch * widths[0])
        z = (0..<layerCount).map { FloatBuffer(count: batch * widths[$0 + 1]) }
        delta = (0..<layerCount).map { FloatBuffer(count: batch * widths[$0 + 1]) }
        act = (0..<(layerCount - 1)).map { FloatBuffer(count: batch * widths[$0 + 1]) }
        mask = dropout ? (0..<(layerCount - 1)).map { FloatBuffer(count: batch * widths[$0 + 1]) } : []
        dropped = dropout ? (0..<(layerCount - 1)).map { FloatBuffer(count: batch * widths[$0 + 1]) } : []
        losses = FloatBuffer(count: batch)
        sampleNorms = FloatBuffer(count: batch)
        ids = .allocate(capacity: batch)
        ids.initialize(repeating: 0)
        labels = .allocate(capacity: batch)
        labels.initialize(repeating: 0)
        correct = .allocate(capacity: batch)
        correct.initialize(repeating: 0)
    }

    deinit {
        ids.deallocate()
        labels.deallocate()
        correct.deallocate()
    }

    /// a_l, the input of Dense layer l.
    func input(_ l: Int) -> FloatBuffer {
        if l == 0 { return x }
        return dropped.isEmpty ? act[l - 1] : dropped[l - 1]
    }
}
