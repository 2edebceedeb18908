import Foundation
import Testing
import KymoTestSupport
@testable import KymoEngine

/// Builders for data files (IDX, .npy, CSV) and a checker for loader errors, shared by the
/// Data*Tests suites.
enum DataFixtures {
    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    /// An IDX file: 00 00 08 <d>, big-endian sizes, then `values`.
    static func idx(dimensions: [Int], values: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
        for size in dimensions {
            bytes += [UInt8(size >> 24 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)]
        }
        return bytes + values
    }

    /// A .npy file with the given header dict text, padded as NumPy pads it (to a multiple of 64).
    static func npy(header dict: String, data: [UInt8], major: UInt8 = 1) -> [UInt8] {
        let prefix = major == 1 ? 10 : 12
        var header = Array(dict.utf8)
        while (prefix + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, 0]
        if major == 1 {
            bytes += [UInt8(header.count & 0xFF), UInt8(header.count >> 8)]
        } else {
            bytes += [UInt8(header.count & 0xFF), UInt8(header.count >> 8 & 0xFF), 0, 0]
        }
        return bytes + header + data
    }

    static func npy(descr: String, shape: [Int], data: [UInt8], fortran: Bool = false, major: UInt8 = 1) -> [UInt8] {
        let shapeText = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
        return npy(header: "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shapeText), }",
                   data: data, major: major)
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value.littleEndian >> (8 * $0)) } }
    }

    static func floatBytes(_ values: [Float]) -> [UInt8] { littleEndianBytes(values.map(\.bitPattern)) }
    static func doubleBytes(_ values: [Double]) -> [UInt8] { littleEndianBytes(values.map(\.bitPattern)) }

    /// Runs `body`, expects `EngineError.malformedData`, and checks its parts; returns the error's text.
    @discardableResult
    static func expectMalformed(
        field: String, offset: Int? = nil, message: String, source: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Dataset
    ) -> String {
        do {
            let dataset = try body()
            Issue.record("expected malformedData(\(field)), loaded \(dataset.count) samples", sourceLocation: sourceLocation)
        } catch let error as EngineError {
            guard case let .malformedData(errorSource, errorField, errorOffset, errorMessage) = error else {
                Issue.record("expected malformedData, got \(error)", sourceLocation: sourceLocation)
                return "\(error)"
            }
            #expect(errorField == field, "\(error)", sourceLocation: sourceLocation)
            if let offset { #expect(errorOffset == offset, "\(error)", sourceLocation: sourceLocation) }
            #expect(errorMessage.contains(message), "\(error)", sourceLocation: sourceLocation)
            if let source { #expect(errorSource.contains(source), "\(error)", sourceLocation: sourceLocation) }
            return "\(error)"
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
        return ""
    }
}

@Suite struct DataFixturesTests {
    @Test func npyFixtureHeaderIsPaddedLikeNumPy() {
        let bytes = DataFixtures.npy(descr: "<f4", shape: [2, 3], data: [])
        #expect(bytes.count % 64 == 0)
        #expect(bytes.last == 0x0A)
    }
}
