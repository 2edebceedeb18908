/// The element type of a column, as stored in every chunk header (one byte).
public enum ColumnType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case float32 = 1
    /// IEEE 754 binary16, held as bit patterns.
    case float16 = 2
    /// Int8 codes; a value is `code × scale`.
    case int8 = 3
    /// Int16 codes; a value is `code × scale`.
    case int16 = 4
    case uint32 = 5
    case int32 = 6
    /// Opaque bytes (a serialized sketch, a checkpoint): one blob per chunk.
    case blob = 7

    /// Bytes per element (1 for blobs).
    public var elementSize: Int {
        switch self {
        case .float32, .uint32, .int32: 4
        case .float16, .int16: 2
        case .int8, .blob: 1
        }
    }

    public var description: String {
        switch self {
        case .float32: "float32"
        case .float16: "float16"
        case .int8: "int8"
        case .int16: "int16"
        case .uint32: "uint32"
        case .int32: "int32"
        case .blob: "blob"
        }
    }
}

/// The values of one column over a range of steps, row-major: `width` values per step.
public enum ColumnData: Equatable, Sendable {
    case float32([Float])
    /// binary16 bit patterns (widen with `Float(Float16(bitPattern:))`, exact; Swift's `Float16` exists on Linux x86-64 and arm64).
    case float16([UInt16])
    case int8(codes: [Int8], scale: Float)
    case int16(codes: [Int16], scale: Float)
    case uint32([UInt32])
    case int32([Int32])
    case blob([UInt8])

    /// - Complexity: O(1).
    public var type: ColumnType {
        switch self {
        case .float32: .float32
        case .float16: .float16
        case .int8: .int8
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .blob: .blob
        }
    }

    /// Number of elements (bytes for a blob).
    /// - Complexity: O(1).
    public var count: Int {
        switch self {
        case let .float32(v): v.count
        case let .float16(v): v.count
        case let .int8(v, _): v.count
        case let .int16(v, _): v.count
        case let .uint32(v): v.count
        case let .int32(v): v.count
        case let .blob(v): v.count
        }
    }

    /// The scale of quantized codes (1 for the other types).
    var scale: Float {
        switch self {
        case let .int8(_, s), let .int16(_, s): s
        default: 1
        }
    }

    /// Calls `body` with the elements' little-endian bytes.
    /// - Complexity: O(1) (no copy on little-endian machines).
    func withRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws(StoreError) -> R) throws(StoreError) -> R {
        let result: Result<R, StoreError> = switch self {
        case let .float32(v): v.withUnsafeBytes { r in capture { () throws(StoreError) in try body(r) } }
        case let .float16(v): v.withUnsafeBytes { r in capture { () throws(StoreError) in try body(r) } }
        case let .int8(v, _): v.withUnsafeBytes { r in capture { () throws(StoreError) in try body(r) } }
        case let .int16(v, _): v.withUnsafeBytes { r in capture { () throws(StoreError) in try body(r) } }
        case let .uint32(v): v.withUnsafeBytes { r in capture { () throws(StoreError) in try body(r) } }
        case let .int32(v): v.withUnsafeBytes { r in capture { () throws(StoreError) in try body(r) } }
        case let .blob(v): v.withUnsafeBytes { r in capture { () throws(StoreError) in try body(r) } }
        }
        return try result.get()
    }

    /// Builds a column of `type` from little-endian bytes.
    /// - Complexity: O(n).
    static func fromRawBytes(_ bytes: UnsafeRawBufferPointer, type: ColumnType, scale: Float) -> ColumnData {
        func load<T: BitwiseCopyable>(_: T.Type) -> [T] {
            let n = bytes.count / MemoryLayout<T>.size
            return [T](unsafeUninitializedCapacity: n) { buffer, initialized in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<(n * MemoryLayout<T>.size)]))
                initialized = n
            }
        }
        switch type {
        case .float32: return .float32(load(Float.self))
        case .float16: return .float16(load(UInt16.self))
        case .int8: return .int8(codes: load(Int8.self), scale: scale)
        case .int16: return .int16(codes: load(Int16.self), scale: scale)
        case .uint32: return .uint32(load(UInt32.self))
        case .int32: return .int32(load(Int32.self))
        case .blob: return .blob(load(UInt8.self))
        }
    }

    /// Builds a column of `type` whose `byteCount` bytes `fill` writes in place (no copy).
    /// - Complexity: O(1) plus `fill`.
    static func build(type: ColumnType, scale: Float, byteCount: Int,
                      fill: (UnsafeMutableRawBufferPointer) throws(StoreError) -> Void) throws(StoreError) -> ColumnData {
        func make<T: BitwiseCopyable>(_: T.Type) throws(StoreError) -> [T] {
            let n = byteCount / MemoryLayout<T>.size
            var failure: StoreError?
            let array = [T](unsafeUninitializedCapacity: n) { buffer, initialized in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                do throws(StoreError) { try fill(UnsafeMutableRawBufferPointer(rebasing: raw[0..<byteCount])) } catch { failure = error }
                initialized = n
            }
            if let failure { throw failure }
            return array
        }
        switch type {
        case .float32: return .float32(try make(Float.self))
        case .float16: return .float16(try make(UInt16.self))
        case .int8: return .int8(codes: try make(Int8.self), scale: scale)
        case .int16: return .int16(codes: try make(Int16.self), scale: scale)
        case .uint32: return .uint32(try make(UInt32.self))
        case .int32: return .int32(try make(Int32.self))
        case .blob: return .blob(try make(UInt8.self))
        }
    }

    /// Elements `range` (in elements).
    /// - Complexity: O(range.count).
    func slice(_ range: Range<Int>) -> ColumnData {
        switch self {
        case let .float32(v): .float32(Array(v[range]))
        case let .float16(v): .float16(Array(v[range]))
        case let .int8(v, s): .int8(codes: Array(v[range]), scale: s)
        case let .int16(v, s): .int16(codes: Array(v[range]), scale: s)
        case let .uint32(v): .uint32(Array(v[range]))
        case let .int32(v): .int32(Array(v[range]))
        case let .blob(v): .blob(Array(v[range]))
        }
    }

    /// The values as Float (codes times scale, halves widened); nil for blobs.
    /// - Complexity: O(n).
    public func floatValues() -> [Float]? {
        switch self {
        case let .float32(v): v
        case let .float16(v): v.map { Float(Float16(bitPattern: $0)) }   // exact widening
        case let .int8(v, s): v.map { Float($0) * s }
        case let .int16(v, s): v.map { Float($0) * s }
        case let .uint32(v): v.map { Float($0) }
        case let .int32(v): v.map { Float($0) }
        case .blob: nil
        }
    }
}

/// One chunk's worth of a column as read back: the steps it covers and their values.
public struct ColumnSlice: Equatable, Sendable {
    public var steps: Range<Int>
    /// Values per step (0 for an empty chunk; the blob's length for a blob).
    public var width: Int
    public var data: ColumnData
}

/// Runs a typed-throwing closure inside APIs that only rethrow untyped errors.
func capture<R>(_ body: () throws(StoreError) -> R) -> Result<R, StoreError> {
    do { return .success(try body()) } catch { return .failure(error) }
}
