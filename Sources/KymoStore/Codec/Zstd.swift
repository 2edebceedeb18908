import CZstd

/// The one file that calls libzstd: turns its return codes into `StoreError.codec`.
///
/// A compressor keeps one `ZSTD_CCtx` (and a decompressor one `ZSTD_DCtx`) for its lifetime, so
/// compressing many chunks allocates nothing per chunk.
final class ZstdCompressor {
    private let context: OpaquePointer
    let level: Int32

    /// - Complexity: O(1).
    init(level: Int32 = 1) {
        guard let context = ZSTD_createCCtx() else { fatalError("zstd: out of memory") }
        self.context = context
        self.level = level
    }

    deinit { ZSTD_freeCCtx(context) }

    /// The largest compressed size of `count` bytes.
    static func bound(_ count: Int) -> Int { ZSTD_compressBound(count) }

    /// Compresses `source` into `destination` (which holds at least `bound(source.count)` bytes);
    /// returns the compressed size.
    /// - Complexity: O(n).
    func compress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws(StoreError) -> Int {
        let result = ZSTD_compressCCtx(context, destination.baseAddress, destination.count,
                                       source.baseAddress, source.count, level)
        if ZSTD_isError(result) != 0 { throw .codec(String(cString: ZSTD_getErrorName(result))) }
        return result
    }
}

/// Decompresses zstd frames of known size.
final class ZstdDecompressor {
    private let context: OpaquePointer

    /// - Complexity: O(1).
    init() {
        guard let context = ZSTD_createDCtx() else { fatalError("zstd: out of memory") }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    /// The content size a frame's header declares, or nil when it is not stated or the bytes
    /// are not a zstd frame. Checked before allocating for a chunk.
    /// - Complexity: O(1).
    static func declaredSize(_ frame: UnsafeRawBufferPointer) -> Int? {
        let size = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        // ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR are the two largest UInt64 values.
        guard size < UInt64.max - 1, size <= UInt64(Int.max) else { return nil }
        return Int(size)
    }

    /// Decompresses `source` into `destination`, which must be filled exactly.
    /// - Complexity: O(n).
    func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws(StoreError) {
        let result = ZSTD_decompressDCtx(context, destination.baseAddress, destination.count,
                                         source.baseAddress, source.count)
        if ZSTD_isError(result) != 0 { throw .codec(String(cString: ZSTD_getErrorName(result))) }
        guard result == destination.count else {
            throw .codec("decompressed \(result) bytes, expected \(destination.count)")
        }
    }
}
