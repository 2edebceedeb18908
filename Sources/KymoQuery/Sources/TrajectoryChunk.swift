import KymoCore

/// A fast reader of one serialized `QuantizedTrajectory` chunk (`t2/traj/<layer>`) that decodes
/// only the weights asked for: per step it walks the block headers, skips the blocks that hold no
/// requested weight (1 header byte + the codes' or raw floats' length), and replays the closed-loop
/// reconstruction `ŵ = ŵ.addingProduct(c, g_s)` for the requested weights only — the same Float
/// operations as `QuantizedTrajectory`'s decoder, so the values are bit-identical to it.
///
/// Layout read (KymoSketches envelope kind 7): header 16 bytes, weightCount U32 @16, blockSize U32
/// @20, codeBits U8 @24, quantum F32 @25, maxScaleShift U8 @29, stepCount U64 @30, stream length
/// U64 @38, stream @46, checksum U64 after the body. The chunk's own XXH3 was checked by the store
/// when it was read; this reader bounds-checks every access.
struct TrajectoryChunk {
    let weightCount: Int
    let blockSize: Int
    let codeBits: Int
    let quantum: Float
    let stepCount: Int
    let bytes: [UInt8]
    let streamStart: Int
    let streamEnd: Int

    /// - Throws: `QueryError.invalid` naming the field of a malformed chunk.
    /// - Complexity: O(1).
    init(_ bytes: [UInt8], column: String) throws {
        var r = ByteReader(bytes, source: column)
        do {
            let magic = try r.readRaw(count: 4, "magic")
            guard Array(magic) == Array("KYSK".utf8) else { throw QueryError.invalid(location: nil, message: "\(column): not a sketch blob") }
            _ = try r.read(UInt16.self, "version")
            let kind = try r.read(UInt16.self, "kind")
            guard kind == 7 else { throw QueryError.invalid(location: nil, message: "\(column): sketch kind \(kind), expected a trajectory (7)") }
            _ = try r.read(UInt64.self, "bodyLength")
            weightCount = Int(try r.read(UInt32.self, "weightCount"))
            blockSize = Int(try r.read(UInt32.self, "blockSize"))
            codeBits = Int(try r.read(UInt8.self, "codeBits"))
            quantum = try r.readFloat("quantum")
            _ = try r.read(UInt8.self, "maxScaleShift")
            stepCount = Int(try r.read(UInt64.self, "stepCount"))
            let length = Int(try r.read(UInt64.self, "stream length"))
            streamStart = r.offset
            streamEnd = streamStart + length
            guard blockSize > 0, codeBits == 8 || codeBits == 16, streamEnd <= bytes.count else {
                throw QueryError.invalid(location: nil, message: "\(column): blockSize \(blockSize), codeBits \(codeBits), stream ends at \(streamEnd) of \(bytes.count) bytes")
            }
        } catch let error as QueryError { throw error } catch {
            throw QueryError.invalid(location: nil, message: "\(column): \(error)")
        }
        self.bytes = bytes
    }

    /// Values and bounds of the weights `local` (ascending layer-local indices; nil: all of them)
    /// after the chunk's steps `keepFrom...through` (default: all): `values[k][j]`, `bounds[k][j]`
    /// for step `keepFrom + k` and `local[j]`. Decoding stops after step `through`.
    /// - Complexity: O((through + 1) · (blocks + requested weights)).
    func decode(_ requested: [Int]?, column: String, keepFrom: Int = 0, through: Int? = nil) throws -> (values: [[Float]], bounds: [[Float]]) {
        let last = min(stepCount - 1, through ?? stepCount - 1)
        let bytesPerCode = codeBits / 8
        let everyWeight = requested == nil
        let local = requested ?? []
        let n = requested?.count ?? weightCount
        var current = [Float](repeating: 0, count: n)
        var bound = [Float](repeating: 0, count: n)
        var values: [[Float]] = [], bounds: [[Float]] = []
        values.reserveCapacity(stepCount)
        bounds.reserveCapacity(stepCount)
        // Requested positions grouped by block: for block b, local[first[b]..<first[b + 1]].
        let blocks = (weightCount + blockSize - 1) / blockSize
        var first = [Int](repeating: n, count: blocks + 1)
        if everyWeight {
            for b in 0..<blocks { first[b] = b * blockSize }
        } else {
            var j = local.count
            for b in stride(from: blocks, through: 0, by: -1) {
                while j > 0 && local[j - 1] >= b * blockSize { j -= 1 }
                first[b] = j
            }
        }
        try bytes.withUnsafeBufferPointer { s in
          try current.withUnsafeMutableBufferPointer { cur in
          try bound.withUnsafeMutableBufferPointer { bnd in
            var p = streamStart
            for step in 0..<(last + 1) {
                for b in 0..<blocks {
                    let start = b * blockSize, length = min(blockSize, weightCount - start)
                    guard p < streamEnd else { throw QueryError.invalid(location: nil, message: "\(column): stream ends early at byte \(p)") }
                    let tag = s[p]
                    p += 1
                    let width = tag == 0xFF ? 4 : bytesPerCode
                    guard p + width * length <= streamEnd else { throw QueryError.invalid(location: nil, message: "\(column): block at byte \(p) runs past the stream") }
                    let lo = first[b], hi = first[b + 1]
                    if lo < hi {
                        if tag == 0xFF {
                            for k in lo..<hi {
                                let at = p + 4 * ((everyWeight ? k : local[k]) - start)
                                let bits = UInt32(s[at]) | UInt32(s[at + 1]) << 8 | UInt32(s[at + 2]) << 16 | UInt32(s[at + 3]) << 24
                                cur[k] = Float(bitPattern: bits)
                                bnd[k] = 0
                            }
                        } else if hi - lo == length && bytesPerCode == 1 {
                            // The whole block (ids are ascending and distinct, so local[lo..<hi]
                            // is start..<start + length): a straight loop over its codes.
                            let scale = quantum * Float(sign: .plus, exponent: Int(tag), significand: 1)
                            let g = scale - scale / 8
                            let half = scale / 2
                            let codes = s.baseAddress! + p
                            let out = cur.baseAddress! + lo, outBound = bnd.baseAddress! + lo
                            for i in 0..<length {
                                out[i] = out[i].addingProduct(Float(Int8(bitPattern: codes[i])), g)
                                outBound[i] = half
                            }
                        } else {
                            let scale = quantum * Float(sign: .plus, exponent: Int(tag), significand: 1)
                            let g = scale - scale / 8
                            let half = scale / 2
                            for k in lo..<hi {
                                let at = p + bytesPerCode * ((everyWeight ? k : local[k]) - start)
                                let c: Int32 = bytesPerCode == 1 ? Int32(Int8(bitPattern: s[at]))
                                    : Int32(Int16(bitPattern: UInt16(s[at]) | UInt16(s[at + 1]) << 8))
                                cur[k] = cur[k].addingProduct(Float(c), g)
                                bnd[k] = half
                            }
                        }
                    }
                    p += width * length
                }
                if step >= keepFrom {
                    values.append(Array(cur))
                    bounds.append(Array(bnd))
                }
            }
          }
          }
        }
        return (values, bounds)
    }
}
