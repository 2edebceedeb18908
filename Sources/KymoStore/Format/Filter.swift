/// Reversible transforms applied before zstd where they make the payload smaller.
///
/// - `shuffle`: byte-transposition by element size (all first bytes, then all second bytes, …),
///   which groups the slowly varying exponent bytes of floats together.
/// - `xorShuffle`: each element XOR the element one row (`width` elements) earlier, then
///   shuffle; pays for slowly changing snapshots (weights step after step).
public enum ChunkFilter: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case shuffle = 1
    case xorShuffle = 2

    public var description: String {
        switch self {
        case .none: "none"
        case .shuffle: "shuffle"
        case .xorShuffle: "xor+shuffle"
        }
    }

    /// The filters worth trying for a type.
    static func candidates(for type: ColumnType) -> [ChunkFilter] {
        switch type {
        case .float32, .float16, .int16, .uint32, .int32: [.none, .shuffle, .xorShuffle]
        case .int8: [.none, .xorShuffle]
        case .blob: [.none]
        }
    }

    /// Writes the filtered `source` into `destination` (same size); `scratch`, when given, holds
    /// at least as many bytes and saves an allocation.
    /// - Complexity: O(n).
    func apply(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, elementSize: Int, width: Int,
               scratch: UnsafeMutableRawBufferPointer? = nil) {
        switch self {
        case .none:
            destination.copyMemory(from: source)
        case .shuffle:
            Self.shuffle(source, into: destination, elementSize: elementSize)
        case .xorShuffle:
            let n = source.count
            let stride = max(width, 1) * elementSize
            let owned = scratch == nil ? UnsafeMutableRawBufferPointer.allocate(byteCount: n, alignment: 16) : nil
            defer { owned?.deallocate() }
            let temporary = UnsafeMutableRawBufferPointer(rebasing: (owned ?? scratch!)[0..<n])
            Self.xorDelta(source, into: temporary, stride: stride)
            Self.shuffle(UnsafeRawBufferPointer(temporary), into: destination, elementSize: elementSize)
        }
    }

    /// Inverts `apply`.
    /// - Complexity: O(n).
    func invert(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, elementSize: Int, width: Int) {
        switch self {
        case .none:
            destination.copyMemory(from: source)
        case .shuffle:
            Self.unshuffle(source, into: destination, elementSize: elementSize)
        case .xorShuffle:
            Self.unshuffle(source, into: destination, elementSize: elementSize)
            Self.undoXorDelta(destination, stride: max(width, 1) * elementSize)
        }
    }

    private static func shuffle(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, elementSize: Int) {
        let n = source.count / elementSize
        let tail = source.count - n * elementSize
        let s = source.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let d = destination.baseAddress!.assumingMemoryBound(to: UInt8.self)
        if elementSize == 4 {
            var i = 0
            let raw = UnsafeRawPointer(s)
            let out = UnsafeMutableRawPointer(d)
            while i + 16 <= n {
                let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<UInt32>.self)
                out.storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: v), toByteOffset: i, as: SIMD16<UInt8>.self)
                out.storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: v &>> 8), toByteOffset: n + i, as: SIMD16<UInt8>.self)
                out.storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: v &>> 16), toByteOffset: 2 * n + i, as: SIMD16<UInt8>.self)
                out.storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: v &>> 24), toByteOffset: 3 * n + i, as: SIMD16<UInt8>.self)
                i += 16
            }
            while i < n {
                d[i] = s[4 * i]; d[n + i] = s[4 * i + 1]; d[2 * n + i] = s[4 * i + 2]; d[3 * n + i] = s[4 * i + 3]
                i += 1
            }
        } else {
            for i in 0..<n { for b in 0..<elementSize { d[b * n + i] = s[elementSize * i + b] } }
        }
        for t in 0..<tail { d[n * elementSize + t] = s[n * elementSize + t] }
    }

    private static func unshuffle(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, elementSize: Int) {
        let n = source.count / elementSize
        let tail = source.count - n * elementSize
        let s = source.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let d = destination.baseAddress!.assumingMemoryBound(to: UInt8.self)
        if elementSize == 4 {
            var i = 0
            let raw = UnsafeRawPointer(s)
            let out = UnsafeMutableRawPointer(d)
            while i + 16 <= n {
                let b0 = SIMD16<UInt32>(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self))
                let b1 = SIMD16<UInt32>(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: n + i, as: SIMD16<UInt8>.self))
                let b2 = SIMD16<UInt32>(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: 2 * n + i, as: SIMD16<UInt8>.self))
                let b3 = SIMD16<UInt32>(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: 3 * n + i, as: SIMD16<UInt8>.self))
                let v = b0 | (b1 &<< 8) | (b2 &<< 16) | (b3 &<< 24)
                out.storeBytes(of: v, toByteOffset: 4 * i, as: SIMD16<UInt32>.self)
                i += 16
            }
            while i < n {
                d[4 * i] = s[i]; d[4 * i + 1] = s[n + i]; d[4 * i + 2] = s[2 * n + i]; d[4 * i + 3] = s[3 * n + i]
                i += 1
            }
        } else {
            for i in 0..<n { for b in 0..<elementSize { d[elementSize * i + b] = s[b * n + i] } }
        }
        for t in 0..<tail { d[n * elementSize + t] = s[n * elementSize + t] }
    }

    /// d[i] = s[i] ^ s[i - stride] (bytewise; the first row is copied).
    private static func xorDelta(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer, stride: Int) {
        let count = source.count
        let s = source.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let d = destination.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let head = min(stride, count)
        for i in 0..<head { d[i] = s[i] }
        var i = head
        while i + 8 <= count {
            let a = UnsafeRawPointer(s + i).loadUnaligned(as: UInt64.self)
            let b = UnsafeRawPointer(s + i - stride).loadUnaligned(as: UInt64.self)
            UnsafeMutableRawPointer(d + i).storeBytes(of: a ^ b, as: UInt64.self)
            i += 8
        }
        while i < count { d[i] = s[i] ^ s[i - stride]; i += 1 }
    }

    /// In place: d[i] ^= d[i - stride], front to back.
    private static func undoXorDelta(_ buffer: UnsafeMutableRawBufferPointer, stride: Int) {
        let count = buffer.count
        let d = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var i = min(stride, count)
        if stride >= 8 {
            while i + 8 <= count {
                let a = UnsafeRawPointer(d + i).loadUnaligned(as: UInt64.self)
                let b = UnsafeRawPointer(d + i - stride).loadUnaligned(as: UInt64.self)
                UnsafeMutableRawPointer(d + i).storeBytes(of: a ^ b, as: UInt64.self)
                i += 8
            }
        }
        while i < count { d[i] ^= d[i - stride]; i += 1 }
    }
}
