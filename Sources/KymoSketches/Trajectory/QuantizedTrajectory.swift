import KymoCore

/// One decoded step of a `QuantizedTrajectory`.
public struct TrajectoryStep: Sendable, Equatable {
    /// ŵ_t for every weight.
    public var values: [Float]
    /// A bound b with |ŵ_t − w_t| ≤ b, per weight (0 where the block was stored raw).
    public var bounds: [Float]
}

/// Closed-loop quantized deltas: the values of n weights at successive recorded steps, as 8- or
/// 16-bit codes with per-block, per-step scales.
///
/// Each step, for each block of `blockSize` weights, the encoder quantizes w_t − ŵ_{t−1} against
/// the *reconstructed* previous values ŵ_{t−1} (what the decoder will have), so the error never
/// accumulates: code c = round((w_t − ŵ_{t−1})/g_s), ŵ_t = ŵ_{t−1} + c·g_s (one fused multiply-add
/// in `Float`, computed identically by encoder and decoder), with grid step g_s = (7/8)·q·2^s so
/// that the rounding of ŵ_t to `Float` fits inside the bound q_s/2 = q·2^s/2. The block header
/// byte s is the smallest shift in 0...`maxScaleShift` for which every code fits in the code range
/// and every reconstructed value is within q_s/2 of the truth (checked on the actual float result,
/// so rounding cannot break the bound); if none does, the block is stored as raw floats (header
/// 0xFF) and ŵ_t = w_t exactly. The first step is encoded against ŵ_{−1} = 0.
///
/// **Accuracy (deterministic).** |ŵ_t − w_t| ≤ q·2^s/2 for every weight and step, with s the
/// block's shift at that step (≤ q/2 when `maxScaleShift` is 0) and 0 for raw blocks; the decoder
/// returns this bound with every value.
///
/// **Space.** Per step and block: 1 header byte + blockSize·codeBits/8 bytes (4·blockSize when
/// raw). With 8-bit codes and blocks of 64: 1.02 bytes per weight per step.
///
/// **Merge.** Not a mergeable summary: trajectories of disjoint weight ranges or of successive
/// step ranges are kept side by side.
///
/// **Serialization.** Envelope kind 7. Body: weightCount (UInt32, off 16), blockSize (UInt32, 20),
/// codeBits (UInt8, 24), quantum q (Float, 25), maxScaleShift (UInt8, 29), stepCount (UInt64, 30),
/// stream.count (UInt64, 38), stream bytes (46): per step, per block, a header byte s (or 0xFF)
/// and then blockLength codes (Int8 or Int16 little-endian) or raw Floats. The decoder replays the
/// stream on load, so a damaged stream is reported with its offset.
///
/// **Background.** Closed-loop (predictive) quantization, as in DPCM: C. C. Cutler, US patent
/// 2,605,361 (1952); N. S. Jayant, P. Noll, "Digital Coding of Waveforms", 1984, ch. 6.
public struct QuantizedTrajectory: Sendable, Equatable {
    public let weightCount: Int
    public let blockSize: Int
    /// 8 or 16.
    public let codeBits: Int
    /// q: the base quantization step; the bound is q/2 at shift 0.
    public let quantum: Float
    public let maxScaleShift: Int
    /// Steps appended.
    public private(set) var stepCount = 0
    /// ŵ of the last step (what the decoder reconstructs).
    public private(set) var reconstruction: [Float]
    package private(set) var stream: [UInt8] = []

    static let rawTag: UInt8 = 0xFF

    /// - Complexity: O(weightCount).
    public init(weightCount: Int, blockSize: Int = 64, codeBits: Int = 8, quantum: Float, maxScaleShift: Int = 0) throws(SketchError) {
        guard weightCount >= 1, weightCount <= 1 << 30, blockSize >= 1, blockSize <= 1 << 20,
              codeBits == 8 || codeBits == 16, quantum > 0, quantum.isFinite, (0...30).contains(maxScaleShift) else {
            throw .invalidArgument(sketch: "QuantizedTrajectory", message:
                "weightCount \(weightCount), blockSize \(blockSize), codeBits \(codeBits), quantum \(quantum), maxScaleShift \(maxScaleShift)")
        }
        self.weightCount = weightCount
        self.blockSize = blockSize
        self.codeBits = codeBits
        self.quantum = quantum
        self.maxScaleShift = maxScaleShift
        reconstruction = [Float](repeating: 0, count: weightCount)
    }

    /// 2·tolerance: the quantum for which every value is within `tolerance` at shift 0.
    /// - Complexity: O(1).
    public static func suggestedQuantum(tolerance: Float) -> Float { 2 * tolerance }

    /// The grid step at shift s: (7/8)·q·2^s. Codes land within (7/16)·q·2^s of the truth in
    /// exact arithmetic, which leaves q·2^s/16 for the rounding of the reconstruction to `Float`,
    /// so the stated bound q·2^s/2 holds whenever q is at least 16 ulps of the weights.
    static func gridStep(_ quantum: Float, shift: Int) -> Float {
        let q = quantum * Float(sign: .plus, exponent: shift, significand: 1)
        return q - q / 8
    }

    /// Appends the values of every weight at the next recorded step.
    /// - Complexity: O(weightCount · (1 + shifts tried)).
    public mutating func append(_ weights: UnsafeBufferPointer<Float>) {
        precondition(weights.count == weightCount, "expected \(weightCount) weights")
        let limit = codeBits == 8 ? 127 : 32767
        let bytesPerCode = codeBits / 8
        var codes = [Int32](repeating: 0, count: blockSize)
        reconstruction.withUnsafeMutableBufferPointer { rec in
            var start = 0
            while start < weightCount {
                let end = min(start + blockSize, weightCount)
                if Self.encodeFast(weights, rec, start, end, quantum, limit, bytesPerCode, &codes, &stream) {
                    start = end
                    continue
                }
                var chosen = -1
                shifts: for s in 0...maxScaleShift {
                    let q = Self.gridStep(quantum, shift: s)
                    let half = Double(quantum * Float(sign: .plus, exponent: s, significand: 1)) / 2
                    for i in start..<end {
                        let d = weights[i] - rec[i]
                        var c = (d / q).rounded(.toNearestOrEven)
                        guard abs(c) <= Float(limit) else { continue shifts }
                        var r = rec[i].addingProduct(c, q)
                        if !(abs(Double(r) - Double(weights[i])) <= half) {
                            // Rounding of d/q or of the sum picked the wrong neighbour: try the other.
                            c += Double(r) < Double(weights[i]) ? 1 : -1
                            guard abs(c) <= Float(limit) else { continue shifts }
                            r = rec[i].addingProduct(c, q)
                            guard abs(Double(r) - Double(weights[i])) <= half else { continue shifts }
                        }
                        codes[i - start] = Int32(c)
                    }
                    chosen = s
                    break
                }
                if chosen < 0 {
                    stream.append(Self.rawTag)
                    for i in start..<end {
                        withUnsafeBytes(of: weights[i].bitPattern.littleEndian) { stream.append(contentsOf: $0) }
                        rec[i] = weights[i]
                    }
                } else {
                    stream.append(UInt8(chosen))
                    let q = Self.gridStep(quantum, shift: chosen)
                    for i in start..<end {
                        let c = codes[i - start]
                        if bytesPerCode == 1 {
                            stream.append(UInt8(bitPattern: Int8(c)))
                        } else {
                            let u = UInt16(bitPattern: Int16(c))
                            stream.append(UInt8(u & 0xFF)); stream.append(UInt8(u >> 8))
                        }
                        rec[i] = rec[i].addingProduct(Float(c), q)
                    }
                }
                start = end
            }
        }
        stepCount += 1
    }

    /// Shift 0 without early exits (the common case): every code in range and every value within
    /// q/2, else nothing is written and the caller takes the general path.
    @inline(__always)
    private static func encodeFast(_ weights: UnsafeBufferPointer<Float>, _ rec: UnsafeMutableBufferPointer<Float>,
                                   _ start: Int, _ end: Int, _ quantum: Float, _ limit: Int, _ bytesPerCode: Int,
                                   _ codes: inout [Int32], _ stream: inout [UInt8]) -> Bool {
        let q = gridStep(quantum, shift: 0)
        let inverse = 1 / q
        let half = Double(quantum) / 2
        let lim = Float(limit)
        var bad: UInt32 = 0
        codes.withUnsafeMutableBufferPointer { codes in
            for i in start..<end {
                let w = weights[i], r0 = rec[i]
                let c = ((w - r0) * inverse).rounded(.toNearestOrEven)
                let inRange = abs(c) <= lim
                let cc = inRange ? c : 0
                let r = r0.addingProduct(cc, q)
                let within = abs(Double(r) - Double(w)) <= half
                bad |= (inRange && within) ? 0 : 1
                codes[i - start] = Int32(cc)
            }
        }
        if bad != 0 { return false }
        let base = stream.count
        // Header byte 0 (shift 0), then the codes, written in place.
        stream.append(contentsOf: repeatElement(0, count: 1 + (end - start) * bytesPerCode))
        stream.withUnsafeMutableBufferPointer { out in
            codes.withUnsafeBufferPointer { codes in
                var p = base + 1
                for i in start..<end {
                    let c = codes[i - start]
                    if bytesPerCode == 1 {
                        out[p] = UInt8(truncatingIfNeeded: c)
                        p += 1
                    } else {
                        out[p] = UInt8(truncatingIfNeeded: c)
                        out[p + 1] = UInt8(truncatingIfNeeded: c >> 8)
                        p += 2
                    }
                    rec[i] = rec[i].addingProduct(Float(c), q)
                }
            }
        }
        return true
    }

    /// Appends the values of every weight at the next recorded step.
    /// - Complexity: O(weightCount).
    public mutating func append(_ weights: [Float]) {
        weights.withUnsafeBufferPointer { append($0) }
    }

    /// Replays the stream, calling `body(t, step)` for every step.
    /// - Complexity: O(stepCount · weightCount).
    public func forEachStep(_ body: (Int, TrajectoryStep) -> Void) {
        _ = try! Self.replay(stream, weightCount: weightCount, blockSize: blockSize, codeBits: codeBits,
                             quantum: quantum, maxScaleShift: maxScaleShift, steps: stepCount, streamOffset: 0, body)
    }

    /// Every step, decoded, with its bounds.
    /// - Complexity: O(stepCount · weightCount).
    public func decoded() -> [TrajectoryStep] {
        var steps: [TrajectoryStep] = []
        forEachStep { steps.append($1) }
        return steps
    }

    /// Decodes `steps` steps from `stream`; returns the final reconstruction. Errors name the byte
    /// offset (`streamOffset` is where the stream starts in the serialized buffer).
    static func replay(_ stream: [UInt8], weightCount: Int, blockSize: Int, codeBits: Int, quantum: Float,
                       maxScaleShift: Int, steps: Int, streamOffset: Int,
                       _ body: (Int, TrajectoryStep) -> Void) throws(SketchError) -> [Float] {
        var step = TrajectoryStep(values: [Float](repeating: 0, count: weightCount),
                                  bounds: [Float](repeating: 0, count: weightCount))
        var p = 0
        let bytesPerCode = codeBits / 8
        func fail(_ field: String, _ message: String) -> SketchError {
            .malformed(sketch: "QuantizedTrajectory", field: field, offset: streamOffset + p, message: message)
        }
        for t in 0..<steps {
            var start = 0
            while start < weightCount {
                let end = min(start + blockSize, weightCount)
                guard p < stream.count else { throw fail("stream[step \(t)].header", "stream ends early") }
                let tag = stream[p]
                if tag == rawTag {
                    guard stream.count - p - 1 >= 4 * (end - start) else { throw fail("stream[step \(t)].raw", "stream ends early") }
                    p += 1
                    for i in start..<end {
                        var bits: UInt32 = 0
                        for b in 0..<4 { bits |= UInt32(stream[p + b]) << (8 * b) }
                        step.values[i] = Float(bitPattern: bits)
                        step.bounds[i] = 0
                        p += 4
                    }
                } else {
                    guard Int(tag) <= maxScaleShift else { throw fail("stream[step \(t)].header", "shift \(tag) exceeds \(maxScaleShift)") }
                    guard stream.count - p - 1 >= bytesPerCode * (end - start) else { throw fail("stream[step \(t)].codes", "stream ends early") }
                    p += 1
                    let q = gridStep(quantum, shift: Int(tag))
                    let bound = quantum * Float(sign: .plus, exponent: Int(tag), significand: 1) / 2
                    for i in start..<end {
                        let c: Int32
                        if bytesPerCode == 1 {
                            c = Int32(Int8(bitPattern: stream[p]))
                        } else {
                            c = Int32(Int16(bitPattern: UInt16(stream[p]) | UInt16(stream[p + 1]) << 8))
                        }
                        p += bytesPerCode
                        step.values[i] = step.values[i].addingProduct(Float(c), q)
                        step.bounds[i] = bound
                    }
                }
                start = end
            }
            body(t, step)
        }
        guard p == stream.count else { throw fail("stream", "\(stream.count - p) bytes after the last step") }
        return step.values
    }

    /// - Complexity: O(stream bytes).
    public func serialized() -> [UInt8] {
        var writer = SketchEnvelope.begin(.quantizedTrajectory, capacity: stream.count + 48)
        writer.write(UInt32(weightCount))
        writer.write(UInt32(blockSize))
        writer.write(UInt8(codeBits))
        writer.write(quantum)
        writer.write(UInt8(maxScaleShift))
        writer.write(UInt64(stepCount))
        writer.write(array: stream)
        return SketchEnvelope.finish(&writer)
    }

    /// Decodes and replays the stream (which validates it).
    /// - Throws: `SketchError` naming the field and offset of a truncated, corrupt or foreign buffer.
    /// - Complexity: O(stepCount · weightCount).
    public init(deserializing bytes: [UInt8]) throws(SketchError) {
        var reader = try SketchEnvelope.open(bytes, expecting: .quantizedTrajectory)
        let s = try SketchEnvelope.decode { () throws(CoreError) in
            let n = Int(try reader.read(UInt32.self, "weightCount"))
            let b = Int(try reader.read(UInt32.self, "blockSize"))
            let bits = Int(try reader.read(UInt8.self, "codeBits"))
            let q = try reader.readFloat("quantum")
            let shift = Int(try reader.read(UInt8.self, "maxScaleShift"))
            let stepsAt = reader.offset
            let steps = try reader.read(UInt64.self, "stepCount")
            try reader.check(steps <= UInt64(Int32.max), field: "stepCount", at: stepsAt, "\(steps) steps")
            let streamAt = reader.offset + 8
            let stream = try reader.readArray(UInt8.self, "stream")
            try reader.expectEnd()
            return (n, b, bits, q, shift, Int(steps), stream, streamAt)
        }
        try self.init(weightCount: s.0, blockSize: s.1, codeBits: s.2, quantum: s.3, maxScaleShift: s.4)
        reconstruction = try Self.replay(s.6, weightCount: s.0, blockSize: s.1, codeBits: s.2, quantum: s.3,
                                         maxScaleShift: s.4, steps: s.5, streamOffset: s.7) { _, _ in }
        stream = s.6
        stepCount = s.5
    }
}
