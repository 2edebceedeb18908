import KymoCore

/// NumPy `.npy` version 1.0 (numpy.lib.format): magic `\x93NUMPY`, version 1 0, a UInt16
/// header length, an ASCII dict padded with spaces and a newline so the data starts at a
/// multiple of 64, then the array's bytes in C order.
public enum Npy {
    /// The header for an array of `descr` (e.g. "<f4") and `shape`.
    /// - Complexity: O(1).
    public static func header(descr: String, shape: [Int]) -> [UInt8] {
        let shapeText: String = switch shape.count {
        case 1: "(\(shape[0]),)"
        default: "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var w = ByteWriter(capacity: 10 + dict.utf8.count)
        w.write(raw: [0x93] + Array("NUMPY".utf8) + [1, 0])
        w.write(UInt16(dict.utf8.count))
        w.write(raw: dict.utf8)
        return w.bytes
    }

    /// A complete `.npy` file: header and little-endian data.
    /// - Complexity: O(n).
    public static func file(descr: String, shape: [Int], data: [UInt8]) -> [UInt8] {
        header(descr: descr, shape: shape) + data
    }
}
