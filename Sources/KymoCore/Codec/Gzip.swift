import CZlib

/// gzip (and zlib) decompression through the system zlib: the one file of KymoCore that calls it.
package enum Gzip {
    /// True when `bytes` start with the gzip magic number 1f 8b.
    /// - Complexity: O(1).
    package static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// Inflates a whole gzip member (or several concatenated members).
    /// - Parameter source: names the input in error messages (a path, usually).
    /// - Throws: `CoreError.corrupt` naming the source and the zlib message.
    /// - Complexity: O(n) in the size of the output.
    package static func decompress(_ input: [UInt8], source: String) throws(CoreError) -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 32: detect gzip or zlib headers automatically.
        var status = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw .corrupt(source: source, offset: 0, message: "zlib inflateInit failed (\(status))")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        output.reserveCapacity(max(input.count * 4, 1 << 16))
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        var consumed = 0
        try input.withUnsafeBufferPointer { inputBuffer throws(CoreError) in
            stream.next_in = UnsafeMutablePointer(mutating: inputBuffer.baseAddress)
            stream.avail_in = UInt32(inputBuffer.count)
            while true {
                let produced = chunk.withUnsafeMutableBufferPointer { out -> Int in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return out.count - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
                consumed = inputBuffer.count - Int(stream.avail_in)
                if status == Z_STREAM_END {
                    // Concatenated members: start the next one if input remains.
                    if stream.avail_in == 0 { break }
                    inflateReset(&stream)
                    continue
                }
                if status == Z_BUF_ERROR && stream.avail_in == 0 {
                    throw .corrupt(source: source, offset: consumed,
                                   message: "gzip stream is truncated")
                }
                guard status == Z_OK else {
                    let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    throw .corrupt(source: source, offset: consumed, message: "gzip: \(reason)")
                }
            }
        }
        return output
    }
}
