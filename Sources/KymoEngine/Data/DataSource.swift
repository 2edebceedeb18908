/// Where a data set comes from, as named on the command line.
///
/// | text | source |
/// | --- | --- |
/// | `digits` | scikit-learn's 8x8 digits, embedded in the binary (1797 × 64, 10 classes) |
/// | `synthetic` | the synthetic generator at seed scale: 100,000 × 784, 10 classes |
/// | `synthetic:COUNT[:FEATURES[:CLASSES]]` | the synthetic generator at another size |
/// | `idx:DIR` | MNIST layout: `DIR/train-images-idx3-ubyte[.gz]`, `DIR/train-labels-idx1-ubyte[.gz]` |
/// | `csv:PATH` | numbers, one sample a line, the last column the integer label (gzipped or not) |
/// | `npy:FEATURES,LABELS` | two NumPy files: features (N, …) and labels (N) |
/// | a plain path | the format guessed from the extension or the directory's contents |
///
/// `description` gives the canonical text back, and `DataSource(parsing: source.description)`
/// equals `source` (for paths without commas).
package enum DataSource: Sendable, Equatable, CustomStringConvertible {
    case digits
    case synthetic(count: Int, featureCount: Int, classCount: Int)
    case idx(directory: String)
    case csv(path: String)
    case npy(features: String, labels: String)

    /// The seed-scale synthetic set: 100,000 samples × 784 features, 10 classes.
    package static let seedScaleSynthetic = DataSource.synthetic(count: 100_000, featureCount: 784, classCount: 10)

    /// Parses a data-source name (see the type's table).
    /// - Throws: `EngineError.invalidSpec` naming the part that does not parse.
    /// - Complexity: O(n) in the length of `text`, plus a directory listing for a plain
    ///   directory path.
    package init(parsing text: String) throws(EngineError) {
        var trimmed = Substring(text)
        while trimmed.first?.isWhitespace == true { trimmed.removeFirst() }
        while trimmed.last?.isWhitespace == true { trimmed.removeLast() }
        guard !trimmed.isEmpty else { throw .invalidSpec("empty data source; try 'digits' or 'synthetic'") }
        if trimmed == "digits" {
            self = .digits
            return
        }
        if trimmed == "synthetic" || trimmed.hasPrefix("synthetic:") {
            self = try Self.parseSynthetic(String(trimmed))
            return
        }
        if let colon = trimmed.firstIndex(of: ":") {
            let scheme = trimmed[..<colon]
            let rest = String(trimmed[trimmed.index(after: colon)...])
            switch scheme {
            case "idx":
                guard !rest.isEmpty else { throw .invalidSpec("'idx:' needs a directory: idx:DIR") }
                self = .idx(directory: rest)
                return
            case "csv":
                guard !rest.isEmpty else { throw .invalidSpec("'csv:' needs a file: csv:PATH") }
                self = .csv(path: rest)
                return
            case "npy":
                let parts = rest.split(separator: ",", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw .invalidSpec("'\(trimmed)': expected npy:FEATURES.npy,LABELS.npy")
                }
                self = .npy(features: String(parts[0]), labels: String(parts[1]))
                return
            default:
                break  // a plain path that happens to contain a colon
            }
        }
        self = try Self.guess(path: String(trimmed))
    }

    /// `synthetic[:COUNT[:FEATURES[:CLASSES]]]`
    private static func parseSynthetic(_ text: String) throws(EngineError) -> DataSource {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).dropFirst()
        guard parts.count <= 3 else {
            throw .invalidSpec("'\(text)': expected synthetic[:COUNT[:FEATURES[:CLASSES]]]")
        }
        guard case let .synthetic(defaultCount, defaultFeatures, defaultClasses) = seedScaleSynthetic else {
            fatalError("unreachable")
        }
        var values = [defaultCount, defaultFeatures, defaultClasses]
        let names = ["COUNT", "FEATURES", "CLASSES"]
        for (i, part) in parts.enumerated() {
            let digits = part.filter { $0 != "_" }
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits) else {
                throw .invalidSpec("'\(text)': \(names[i]) '\(part)' is not a whole number")
            }
            values[i] = value
        }
        try SyntheticData.validate(count: values[0], featureCount: values[1], classCount: values[2])
        return .synthetic(count: values[0], featureCount: values[1], classCount: values[2])
    }

    /// Guesses the format of a plain path: a directory with MNIST-named IDX files, or with
    /// `features.npy`/`labels.npy` (also `X.npy`/`y.npy`); a `.csv` or `.csv.gz` file.
    private static func guess(path: String) throws(EngineError) -> DataSource {
        switch DataFiles.kind(of: path) {
        case .missing:
            throw .invalidSpec("'\(path)' is neither a data-source name (digits, synthetic, idx:, csv:, npy:) nor an existing path")
        case .directory:
            let names = DataFiles.contents(ofDirectory: path)
            if IDXLoader.findFile(named: IDXLoader.imagesName, among: names) != nil {
                return .idx(directory: path)
            }
            for (features, labels) in [("features.npy", "labels.npy"), ("X.npy", "y.npy"), ("x.npy", "y.npy")]
            where names.contains(features) && names.contains(labels) {
                return .npy(features: DataFiles.join(path, features), labels: DataFiles.join(path, labels))
            }
            throw .invalidSpec("directory '\(path)' holds neither \(IDXLoader.imagesName)[.gz] nor features.npy and labels.npy")
        case .file:
            let lower = path.lowercased()
            if lower.hasSuffix(".csv") || lower.hasSuffix(".csv.gz") || lower.hasSuffix(".txt") {
                return .csv(path: path)
            }
            if lower.hasSuffix(".npy") {
                throw .invalidSpec("'\(path)': a .npy file needs its labels too: npy:FEATURES.npy,LABELS.npy")
            }
            throw .invalidSpec("cannot tell the format of '\(path)' from its name; write csv:PATH, idx:DIR or npy:FEATURES,LABELS")
        }
    }

    /// The canonical text: `digits`, `synthetic:COUNT:FEATURES:CLASSES`, `idx:DIR`, `csv:PATH`,
    /// `npy:FEATURES,LABELS`.
    /// - Complexity: O(n) in the length of the paths.
    package var description: String {
        switch self {
        case .digits: "digits"
        case let .synthetic(count, featureCount, classCount): "synthetic:\(count):\(featureCount):\(classCount)"
        case let .idx(directory): "idx:\(directory)"
        case let .csv(path): "csv:\(path)"
        case let .npy(features, labels): "npy:\(features),\(labels)"
        }
    }

    /// Loads the data set; `seed` drives the synthetic generator only (the other sources ignore it).
    /// - Throws: `EngineError.io` when a file cannot be read, `EngineError.malformedData` naming the
    ///   file, field and offset when its content is wrong, `EngineError.invalidSpec` for an
    ///   impossible synthetic size.
    /// - Complexity: O(n) in the size of the data (for `synthetic`, count × featureCount).
    package func load(seed: UInt64) throws(EngineError) -> Dataset {
        switch self {
        case .digits:
            return try EmbeddedDigits.load()
        case let .synthetic(count, featureCount, classCount):
            try SyntheticData.validate(count: count, featureCount: featureCount, classCount: classCount)
            return SyntheticData.dataset(count: count, featureCount: featureCount, classCount: classCount, seed: seed)
        case let .idx(directory):
            return try IDXLoader.load(directory: directory)
        case let .csv(path):
            return try CSVLoader.load(path: path)
        case let .npy(features, labels):
            return try NPYLoader.load(features: features, labels: labels)
        }
    }
}
