/// Reads NumPy `.npy` files (format versions 1.0, 2.0 and 3.0): features as a C-order array of
/// two or more dimensions (N, …), flattened to N rows; labels as a 1-D integer array (N).
///
/// Layout: the magic `\x93NUMPY`, a major and a minor version byte, the header length
/// (UInt16 little-endian in version 1, UInt32 in versions 2 and 3), then the header: a Python
/// dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (1797, 64), }`,
/// then the values.
///
/// Accepted element types: `<f4`, `<f8`, `|u1` (also `<u1`), `<i4`, `<i8` for features (kept as
/// they are, converted to Float, no scaling), and the integer ones for labels (0...65535; the
/// class count is the largest label + 1). Big-endian data and Fortran order are refused with a
/// message that says how to convert them.
enum NPYLoader {
    enum ElementType: String {
        case float32 = "<f4", float64 = "<f8", uint8 = "|u1", int32 = "<i4", int64 = "<i8"

        var size: Int {
            switch self {
            case .uint8: 1
            case .float32, .int32: 4
            case .float64, .int64: 8
            }
        }

        var isInteger: Bool { self == .uint8 || self == .int32 || self == .int64 }
    }

    struct NPYArray {
        var type: ElementType
        var shape: [Int]
        var bytes: [UInt8]
        var headerStart: Int
        var dataOffset: Int
        var source: String
    }

    /// - Throws: `EngineError.io` for a missing file; `EngineError.malformedData` naming the file,
    ///   field and offset for a bad header, an unsupported type, a wrong size, a non-finite
    ///   feature, a bad label, or counts that differ.
    /// - Complexity: O(n) in the size of the files.
    static func load(features featuresPath: String, labels labelsPath: String) throws(EngineError) -> Dataset {
        let featuresArray = try parse(try DataFiles.read(featuresPath), source: featuresPath)
        let labelsArray = try parse(try DataFiles.read(labelsPath), source: labelsPath)
        guard featuresArray.shape.count >= 2 else {
            throw .malformedData(source: featuresPath, field: "shape", offset: headerOffset(featuresArray),
                                 message: "features must have 2 or more dimensions (samples, features…), found shape \(shapeText(featuresArray.shape))")
        }
        guard labelsArray.shape.count == 1 else {
            throw .malformedData(source: labelsPath, field: "shape", offset: headerOffset(labelsArray),
                                 message: "labels must be 1-D (samples), found shape \(shapeText(labelsArray.shape))")
        }
        guard labelsArray.type.isInteger else {
            throw .malformedData(source: labelsPath, field: "descr", offset: headerOffset(labelsArray),
                                 message: "labels must be integers ('|u1', '<i4' or '<i8'), found '\(labelsArray.type.rawValue)'; save labels.astype('int64')")
        }
        let count = featuresArray.shape[0]
        guard count == labelsArray.shape[0] else {
            throw .malformedData(source: labelsPath, field: "shape", offset: headerOffset(labelsArray),
                                 message: "\(labelsArray.shape[0]) labels but \(count) feature rows in \(featuresPath)")
        }
        guard count > 0 else {
            throw .malformedData(source: featuresPath, field: "shape", offset: headerOffset(featuresArray), message: "no samples")
        }
        let featureCount = featuresArray.shape.dropFirst().reduce(1, *)
        guard featureCount > 0 else {
            throw .malformedData(source: featuresPath, field: "shape", offset: headerOffset(featuresArray),
                                 message: "a sample has no features: shape \(shapeText(featuresArray.shape))")
        }
        let features = try floats(featuresArray)
        var labels = [Int32](repeating: 0, count: count)
        var maxLabel = 0
        for i in 0..<count {
            let value = integer(labelsArray, i)
            guard value >= 0, value <= Int64(CSVLoader.maxLabel) else {
                throw .malformedData(source: labelsPath, field: "label[\(i)]",
                                     offset: labelsArray.dataOffset + i * labelsArray.type.size,
                                     message: "label \(value) is out of range 0...\(CSVLoader.maxLabel)")
            }
            labels[i] = Int32(value)
            maxLabel = max(maxLabel, Int(value))
        }
        return Dataset(name: "\(featuresPath),\(labelsPath)", featureCount: featureCount, classCount: maxLabel + 1,
                       features: features, labels: labels)
    }

    private static func headerOffset(_ array: NPYArray) -> Int { array.headerStart }

    private static func shapeText(_ shape: [Int]) -> String {
        "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
    }

    /// Parses the magic, version, header and checks the data size.
    /// - Complexity: O(h) in the header's length.
    static func parse(_ bytes: [UInt8], source: String) throws(EngineError) -> NPYArray {
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw .malformedData(source: source, field: "magic", offset: 0,
                                 message: "not a .npy file: expected the magic \\x93NUMPY")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else {
                throw .malformedData(source: source, field: "header_len", offset: 8, message: "file ends inside the header length")
            }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw .malformedData(source: source, field: "version", offset: 6,
                                 message: "format version \(major).\(bytes[7]) is not supported (1.0, 2.0, 3.0 are)")
        }
        guard headerStart + headerLength <= bytes.count else {
            throw .malformedData(source: source, field: "header", offset: headerStart,
                                 message: "header length \(headerLength) runs past the end of the file (\(bytes.count) bytes)")
        }
        var parser = HeaderParser(bytes: Array(bytes[headerStart..<(headerStart + headerLength)]),
                                  base: headerStart, source: source)
        let header = try parser.parseDict()

        guard let descr = header.descr else {
            throw .malformedData(source: source, field: "header.descr", offset: headerStart, message: "the header has no 'descr'")
        }
        guard let fortranOrder = header.fortranOrder else {
            throw .malformedData(source: source, field: "header.fortran_order", offset: headerStart, message: "the header has no 'fortran_order'")
        }
        guard let shape = header.shape else {
            throw .malformedData(source: source, field: "header.shape", offset: headerStart, message: "the header has no 'shape'")
        }
        if descr.first == ">" {
            throw .malformedData(source: source, field: "header.descr", offset: headerStart,
                                 message: "big-endian data ('\(descr)') is not supported; save arr.astype('<\(descr.dropFirst())')")
        }
        let normalized = descr == "<u1" || descr == "=u1" ? "|u1" : descr
        guard let type = ElementType(rawValue: normalized) else {
            throw .malformedData(source: source, field: "header.descr", offset: headerStart,
                                 message: "element type '\(descr)' is not supported; use one of '<f4', '<f8', '|u1', '<i4', '<i8'")
        }
        guard !fortranOrder else {
            throw .malformedData(source: source, field: "header.fortran_order", offset: headerStart,
                                 message: "Fortran-order arrays are not supported; save np.ascontiguousarray(arr)")
        }
        var total = 1
        for size in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            let (byteCount, overflow2) = product.multipliedReportingOverflow(by: type.size)
            guard !overflow, !overflow2, byteCount <= bytes.count else {
                throw .malformedData(source: source, field: "header.shape", offset: headerStart,
                                     message: "shape \(shapeText(shape)) of '\(descr)' needs more bytes than the file holds (\(bytes.count))")
            }
            total = product
        }
        let dataOffset = headerStart + headerLength
        let needed = total * type.size
        let available = bytes.count - dataOffset
        if available < needed {
            throw .malformedData(source: source, field: "data", offset: bytes.count,
                                 message: "truncated: shape \(shapeText(shape)) of '\(descr)' needs \(needed) bytes of data, only \(available) present")
        }
        if available > needed {
            throw .malformedData(source: source, field: "data", offset: dataOffset + needed,
                                 message: "\(available - needed) unexpected bytes after the data")
        }
        return NPYArray(type: type, shape: shape, bytes: bytes, headerStart: headerStart, dataOffset: dataOffset, source: source)
    }

    /// The elements as Float; float64 and the integer types are converted (rounded to nearest).
    /// - Throws: for a NaN or infinite value.
    private static func floats(_ array: NPYArray) throws(EngineError) -> [Float] {
        let count = (array.bytes.count - array.dataOffset) / array.type.size
        var result = [Float](repeating: 0, count: count)
        var bad = -1
        array.bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + array.dataOffset
            result.withUnsafeMutableBufferPointer { out in
                switch array.type {
                case .uint8:
                    for i in 0..<count { out[i] = Float(base.load(fromByteOffset: i, as: UInt8.self)) }
                case .float32:
                    for i in 0..<count {
                        let value = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                        if !value.isFinite && bad < 0 { bad = i }
                        out[i] = value
                    }
                case .float64:
                    for i in 0..<count {
                        let value = Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                        if !value.isFinite && bad < 0 { bad = i }
                        out[i] = value
                    }
                case .int32:
                    for i in 0..<count { out[i] = Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
                case .int64:
                    for i in 0..<count { out[i] = Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
                }
            }
        }
        if bad >= 0 {
            throw .malformedData(source: array.source, field: "data[\(bad)]", offset: array.dataOffset + bad * array.type.size,
                                 message: "feature \(result[bad]) is not finite as a Float")
        }
        return result
    }

    private static func integer(_ array: NPYArray, _ i: Int) -> Int64 {
        array.bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + array.dataOffset
            switch array.type {
            case .uint8: return Int64(base.load(fromByteOffset: i, as: UInt8.self))
            case .int32: return Int64(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
            case .int64: return Int64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
            case .float32, .float64: return -1
            }
        }
    }
}

/// The header dict of a .npy file:
/// `dict := '{' (key ':' value ',')* [key ':' value] '}'`, `key := string`,
/// `value := string | 'True' | 'False' | tuple`, `tuple := '(' (int ',')* [int] ')'`.
private struct HeaderParser {
    struct Header {
        var descr: String?
        var fortranOrder: Bool?
        var shape: [Int]?
    }

    enum Value {
        case string(String), bool(Bool), tuple([Int])
    }

    let bytes: [UInt8]
    /// Offset of the header in the file, for error messages.
    let base: Int
    let source: String
    var position = 0

    init(bytes: [UInt8], base: Int, source: String) {
        self.bytes = bytes
        self.base = base
        self.source = source
    }

    private func fail(_ message: String) -> EngineError {
        let text = String(decoding: bytes, as: UTF8.self).filter { $0 != "\n" }
        return .malformedData(source: source, field: "header", offset: base + position,
                              message: "\(message) in header \(text.prefix(120))")
    }

    private mutating func skipSpace() {
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x0A || bytes[position] == 0x09 || bytes[position] == 0x0D {
            position += 1
        }
    }

    private mutating func expect(_ char: Character) throws(EngineError) {
        skipSpace()
        guard position < bytes.count, bytes[position] == char.asciiValue! else { throw fail("expected '\(char)'") }
        position += 1
    }

    private mutating func peek() -> UInt8? {
        skipSpace()
        return position < bytes.count ? bytes[position] : nil
    }

    /// `dict := '{' (key ':' value ',')* [key ':' value] '}'`
    mutating func parseDict() throws(EngineError) -> Header {
        var header = Header()
        try expect("{")
        while true {
            if peek() == UInt8(ascii: "}") { position += 1; break }
            let key = try parseString()
            try expect(":")
            let value = try parseValue()
            switch (key, value) {
            case let ("descr", .string(text)): header.descr = text
            case let ("fortran_order", .bool(flag)): header.fortranOrder = flag
            case let ("shape", .tuple(sizes)): header.shape = sizes
            case ("descr", _), ("fortran_order", _), ("shape", _):
                throw fail("'\(key)' has the wrong kind of value")
            default:
                break  // unknown keys are ignored
            }
            if peek() == UInt8(ascii: ",") { position += 1; continue }
            try expect("}")
            break
        }
        return header
    }

    /// `string := "'" chars "'" | '"' chars '"'`
    private mutating func parseString() throws(EngineError) -> String {
        guard let quote = peek(), quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
            throw fail("expected a quoted key or string")
        }
        position += 1
        let start = position
        while position < bytes.count, bytes[position] != quote { position += 1 }
        guard position < bytes.count else { throw fail("unterminated string") }
        defer { position += 1 }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// `value := string | 'True' | 'False' | tuple`
    private mutating func parseValue() throws(EngineError) -> Value {
        switch peek() {
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "("): return .tuple(try parseTuple())
        default:
            if matchWord("True") { return .bool(true) }
            if matchWord("False") { return .bool(false) }
            throw fail("expected a string, True, False or a tuple")
        }
    }

    private mutating func matchWord(_ word: String) -> Bool {
        let utf8 = Array(word.utf8)
        guard position + utf8.count <= bytes.count, Array(bytes[position..<(position + utf8.count)]) == utf8 else {
            return false
        }
        position += utf8.count
        return true
    }

    /// `tuple := '(' (int ',')* [int] ')'`
    private mutating func parseTuple() throws(EngineError) -> [Int] {
        try expect("(")
        var sizes: [Int] = []
        while true {
            guard let next = peek() else { throw fail("unterminated tuple") }
            if next == UInt8(ascii: ")") { position += 1; break }
            let start = position
            var value = 0
            while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = shifted.addingReportingOverflow(Int(bytes[position] - UInt8(ascii: "0")))
                guard !o1, !o2 else { throw fail("dimension too large") }
                value = sum
                position += 1
            }
            // Python 2 era files may write long integers as 64L.
            if position < bytes.count, bytes[position] == UInt8(ascii: "L") { position += 1 }
            guard position > start else { throw fail("expected a non-negative integer in the shape") }
            sizes.append(value)
            if peek() == UInt8(ascii: ",") { position += 1; continue }
            try expect(")")
            break
        }
        return sizes
    }
}
