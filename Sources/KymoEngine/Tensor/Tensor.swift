/// A dense Float tensor: flat row-major storage and a shape. The engine's hot loops run on the
/// storage's buffer pointers; `Tensor` is the value type at API boundaries (tests, checkpoints).
package struct Tensor: Sendable, Equatable {
    /// Extent of each dimension, outermost first.
    package var shape: [Int]
    /// Row-major elements; `storage.count == shape.reduce(1, *)`.
    package var storage: [Float]

    /// A zero tensor.
    /// - Complexity: O(n).
    package init(zeros shape: [Int]) {
        self.shape = shape
        self.storage = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// - Precondition: `storage.count == shape.reduce(1, *)`.
    /// - Complexity: O(1).
    package init(shape: [Int], storage: [Float]) {
        precondition(storage.count == shape.reduce(1, *), "storage does not match shape \(shape)")
        self.shape = shape
        self.storage = storage
    }

    /// Number of elements.
    package var count: Int { storage.count }

    /// Element of a rank-2 tensor.
    /// - Complexity: O(1).
    package subscript(row: Int, column: Int) -> Float {
        get { storage[row * shape[1] + column] }
        set { storage[row * shape[1] + column] = newValue }
    }
}

/// A fixed-size, zero-initialized Float buffer owned by the trainer: allocated once, reused every
/// step, freed with its owner. Its pointer is handed to kernels and, for the duration of one
/// observer call, to a `StepTrace`.
///
/// Page-aligned, like the observer's lent buffers (`LentStepBuffers`): the optimizer's pass loads
/// and stores five P-float streams at the same index, and streams whose starts differ within a
/// page make a load a little ahead of a store share its address's low 12 bits (4K aliasing, a
/// false dependency). With malloc's 16-byte alignment the offsets depended on earlier heap use —
/// even on the length of argv[0] — and a recording's training thread ran 8–10 % slower for some
/// of them (1-epoch loops 2.94–3.13 s against 2.70–2.85 s).
final class FloatBuffer {
    let pointer: UnsafeMutableBufferPointer<Float>

    init(count: Int) {
        let n = max(count, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: n * MemoryLayout<Float>.stride, alignment: 4096)
        pointer = UnsafeMutableBufferPointer(start: raw.bindMemory(to: Float.self, capacity: n), count: n)
        pointer.initialize(repeating: 0)
    }

    deinit { UnsafeMutableRawPointer(pointer.baseAddress!).deallocate() }

    var base: UnsafeMutablePointer<Float> { pointer.baseAddress! }
    var readOnly: UnsafePointer<Float> { UnsafePointer(pointer.baseAddress!) }
    var count: Int { pointer.count }

    func view(_ count: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: readOnly, count: count)
    }

    func copy(from array: [Float]) {
        precondition(array.count <= pointer.count)
        array.withUnsafeBufferPointer { source in
            base.update(from: source.baseAddress!, count: array.count)
        }
    }

    func array(_ count: Int) -> [Float] { Array(view(count)) }

    func zero() { pointer.update(repeating: 0) }
}
