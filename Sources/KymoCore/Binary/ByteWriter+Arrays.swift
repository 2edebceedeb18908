/// Concrete (non-generic) array writers for the integer element types the sketches serialize.
///
/// `write<T: FixedWidthInteger>(array:)` writes element by element through the generic
/// `write(_:)`; called from another module it runs unspecialized (value-witness calls per byte),
/// which made serializing a trajectory or a quantile sketch cost several ns per byte on the
/// recorder thread. These overloads are chosen by overload resolution wherever the element type
/// is known, and write the same bytes: the count as UInt64, then the elements little-endian —
/// on a little-endian host, a single copy of the array's storage.
extension ByteWriter {
    /// - Complexity: O(n), one copy.
    package mutating func write(array: [UInt8]) { writeContiguous(array) }
    /// - Complexity: O(n), one copy.
    package mutating func write(array: [Int8]) { writeContiguous(array) }
    /// - Complexity: O(n), one copy on a little-endian host.
    package mutating func write(array: [UInt16]) { writeContiguous(array) }
    /// - Complexity: O(n), one copy on a little-endian host.
    package mutating func write(array: [UInt32]) { writeContiguous(array) }
    /// - Complexity: O(n), one copy on a little-endian host.
    package mutating func write(array: [UInt64]) { writeContiguous(array) }
    /// - Complexity: O(n), one copy on a little-endian host.
    package mutating func write(array: [Int32]) { writeContiguous(array) }
    /// - Complexity: O(n), one copy on a little-endian host.
    package mutating func write(array: [Int64]) { writeContiguous(array) }

    private mutating func writeContiguous<T: FixedWidthInteger>(_ array: [T]) {
        write(UInt64(array.count))
        #if _endian(little)
        array.withUnsafeBytes { write(raw: $0) }
        #else
        for value in array { write(value) }
        #endif
    }
}
