/// Reads the IDX files of MNIST and Fashion-MNIST (LeCun's format), gzipped or not.
///
/// An IDX file is: two zero bytes, a type byte (`0x08`, unsigned byte, is the only type these
/// data sets use and the only one accepted), a byte with the number of dimensions d, d big-endian
/// UInt32 sizes, then the values in C order. The images file is `train-images-idx3-ubyte`
/// (magic `00 00 08 03`: N × rows × cols), the labels file `train-labels-idx1-ubyte` (magic
/// `00 00 08 01`: N), each optionally with `.gz`.
///
/// Pixels become `Float(byte) / 255`; labels must lie in 0..<10 (the MNIST family has 10 classes).
/// Error offsets count bytes of the file's content (after gunzipping, for a `.gz` file).
enum IDXLoader {
    static let imagesName = "train-images-idx3-ubyte"
    static let labelsName = "train-labels-idx1-ubyte"
    /// Classes of the MNIST family.
    static let classCount = 10

    /// The name in `names` that is `base` or `base.gz` (the plain one first).
    static func findFile(named base: String, among names: [String]) -> String? {
        if names.contains(base) { return base }
        if names.contains(base + ".gz") { return base + ".gz" }
        return nil
    }

    /// Loads `directory/train-images-idx3-ubyte[.gz]` with `directory/train-labels-idx1-ubyte[.gz]`.
    /// - Throws: `EngineError.io` when a file is missing; `EngineError.malformedData` naming the
    ///   file, field and offset for a wrong magic number, impossible dimensions, a size that does
    ///   not match the dimensions, a label out of range, or image and label counts that differ.
    /// - Complexity: O(n) in the number of pixels.
    static func load(directory: String) throws(EngineError) -> Dataset {
        guard DataFiles.kind(of: directory) == .directory else {
            throw .io(path: directory, message: "not a directory (idx:DIR expects the folder holding \(imagesName)[.gz])")
        }
        let names = DataFiles.contents(ofDirectory: directory)
        guard let imagesFile = findFile(named: imagesName, among: names) else {
            throw .io(path: DataFiles.join(directory, imagesName), message: "no such file (nor \(imagesName).gz)")
        }
        guard let labelsFile = findFile(named: labelsName, among: names) else {
            throw .io(path: DataFiles.join(directory, labelsName), message: "no such file (nor \(labelsName).gz)")
        }
        let (features, featureCount) = try loadImages(path: DataFiles.join(directory, imagesFile))
        let labels = try loadLabels(path: DataFiles.join(directory, labelsFile))
        let imageCount = featureCount == 0 ? 0 : features.count / featureCount
        guard imageCount == labels.count else {
            throw .malformedData(source: DataFiles.join(directory, labelsFile), field: "dimension[0] (count)", offset: 4,
                                 message: "\(labels.count) labels but \(imageCount) images in \(imagesFile)")
        }
        return Dataset(name: directory, featureCount: featureCount, classCount: classCount,
                       features: features, labels: labels)
    }

    /// Reads an images file (d ≥ 2 dimensions: N × the rest): the pixels, `/255`, and the
    /// number of pixels per image.
    /// - Complexity: O(n) in the number of pixels.
    static func loadImages(path: String) throws(EngineError) -> (features: [Float], featureCount: Int) {
        let bytes = try DataFiles.readMaybeGzipped(path)
        let source = sourceName(path)
        let header = try parseHeader(bytes, source: source, expectedDimensions: 3, what: "images")
        let count = header.dimensions[0]
        let featureCount = header.dimensions.dropFirst().reduce(1, *)
        guard featureCount > 0 else {
            throw .malformedData(source: source, field: "dimensions", offset: 4, message: "an image has no pixels")
        }
        var features = [Float](repeating: 0, count: count * featureCount)
        bytes.withUnsafeBufferPointer { input in
            features.withUnsafeMutableBufferPointer { output in
                let pixels = input.baseAddress! + header.dataOffset
                // A correctly rounded division, as NumPy's `x.astype(np.float32) / 255` gives.
                for i in 0..<output.count { output[i] = Float(pixels[i]) / 255 }
            }
        }
        return (features, featureCount)
    }

    /// Reads a labels file (one dimension); every label must be below `classCount`.
    /// - Complexity: O(n) in the number of labels.
    static func loadLabels(path: String) throws(EngineError) -> [Int32] {
        let bytes = try DataFiles.readMaybeGzipped(path)
        let source = sourceName(path)
        let header = try parseHeader(bytes, source: source, expectedDimensions: 1, what: "labels")
        var labels = [Int32](repeating: 0, count: header.dimensions[0])
        for i in 0..<labels.count {
            let value = bytes[header.dataOffset + i]
            guard Int(value) < classCount else {
                throw .malformedData(source: source, field: "label[\(i)]", offset: header.dataOffset + i,
                                     message: "label \(value) is out of range 0..<\(classCount)")
            }
            labels[i] = Int32(value)
        }
        return labels
    }

    private static func sourceName(_ path: String) -> String {
        path.hasSuffix(".gz") ? path + " (gunzipped)" : path
    }

    /// Checks magic, type, dimension count, and that the content is exactly header + values.
    private static func parseHeader(
        _ bytes: [UInt8], source: String, expectedDimensions: Int, what: String
    ) throws(EngineError) -> (dimensions: [Int], dataOffset: Int) {
        guard bytes.count >= 4 else {
            throw .malformedData(source: source, field: "magic", offset: 0,
                                 message: "file has \(bytes.count) bytes, too short for the 4-byte IDX magic number")
        }
        let magic = bytes[0..<4].map { hex($0) }.joined(separator: " ")
        let expected = "00 00 08 0\(expectedDimensions)"
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw .malformedData(source: source, field: "magic", offset: 0,
                                 message: "magic number is \(magic), expected \(expected) (IDX \(what) file)")
        }
        guard bytes[2] == 0x08 else {
            throw .malformedData(source: source, field: "magic.type", offset: 2,
                                 message: "value type 0x\(hex(bytes[2])) is not supported; expected 0x08 (unsigned byte)")
        }
        guard Int(bytes[3]) == expectedDimensions else {
            throw .malformedData(source: source, field: "magic.dimensions", offset: 3,
                                 message: "magic number is \(magic): \(bytes[3]) dimensions, expected \(expected) (IDX \(what) file with \(expectedDimensions) dimension\(expectedDimensions == 1 ? "" : "s"))")
        }
        var dimensions: [Int] = []
        var offset = 4
        for d in 0..<expectedDimensions {
            guard offset + 4 <= bytes.count else {
                throw .malformedData(source: source, field: "dimension[\(d)]", offset: offset,
                                     message: "file ends inside the header (\(bytes.count) bytes)")
            }
            let value = bytes[offset..<offset + 4].reduce(0) { ($0 << 8) | Int($1) }
            dimensions.append(value)
            offset += 4
        }
        var total = 1
        for (d, size) in dimensions.enumerated() {
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw .malformedData(source: source, field: "dimension[\(d)]", offset: 4 + 4 * d,
                                     message: "dimensions \(dimensions.map(String.init).joined(separator: " × ")) are impossibly large")
            }
            total = product
        }
        let available = bytes.count - offset
        guard available == total else {
            let field = what == "images" ? "pixels" : "labels"
            if available < total {
                throw .malformedData(source: source, field: field, offset: bytes.count,
                                     message: "truncated: dimensions \(dimensions.map(String.init).joined(separator: " × ")) need \(total) bytes of data, only \(available) present")
            }
            throw .malformedData(source: source, field: field, offset: offset + total,
                                 message: "\(available - total) unexpected bytes after the \(total) bytes of data")
        }
        return (dimensions, offset)
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}
