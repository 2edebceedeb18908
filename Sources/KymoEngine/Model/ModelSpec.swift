/// The hidden-layer nonlinearity of an MLP.
package enum Activation: String, Codable, Sendable, CaseIterable {
    case relu
    case tanh
}

/// A multilayer perceptron: `widths[0]` inputs, Dense layers `fc1 … fcL` with `widths[l]` outputs,
/// the activation and (if `dropout > 0`) dropout after every hidden layer, softmax cross-entropy on
/// the last layer's outputs.
package struct ModelSpec: Codable, Sendable, Equatable {
    /// Layer widths, input first: "784,512,256,10" → [784, 512, 256, 10].
    package var widths: [Int]
    package var activation: Activation
    /// Drop probability in [0, 1) after each hidden activation (inverted dropout).
    package var dropout: Float

    /// - Throws: `EngineError.invalidSpec` when a width is not a positive integer, fewer than two
    ///   widths are given, or dropout is outside [0, 1).
    /// - Complexity: O(length of `layers`).
    package init(layers: String, activation: Activation = .relu, dropout: Float = 0) throws(EngineError) {
        var widths: [Int] = []
        for part in layers.split(separator: ",", omittingEmptySubsequences: false) {
            let text = part.trimmingCharacters(in: " ")
            guard let width = Int(text), width > 0 else {
                throw .invalidSpec("layer width '\(text)' in '\(layers)' is not a positive integer")
            }
            widths.append(width)
        }
        try self.init(widths: widths, activation: activation, dropout: dropout)
    }

    /// - Throws: `EngineError.invalidSpec` as `init(layers:activation:dropout:)`.
    /// - Complexity: O(layers).
    package init(widths: [Int], activation: Activation = .relu, dropout: Float = 0) throws(EngineError) {
        guard widths.count >= 2 else {
            throw .invalidSpec("--layers needs at least an input and an output width, got \(widths)")
        }
        guard widths.allSatisfy({ $0 > 0 }) else { throw .invalidSpec("layer widths must be positive: \(widths)") }
        guard dropout >= 0, dropout < 1 else { throw .invalidSpec("dropout must be in [0, 1), got \(dropout)") }
        self.widths = widths
        self.activation = activation
        self.dropout = dropout
    }

    /// Number of Dense layers.
    package var denseCount: Int { widths.count - 1 }

    /// "784,512,256,10".
    package var layersText: String { widths.map(String.init).joined(separator: ",") }

    /// Throws unless the input width equals the data's feature count and the output width covers
    /// its classes.
    /// - Complexity: O(1).
    package func check(featureCount: Int, classCount: Int, dataName: String) throws(EngineError) {
        guard widths[0] == featureCount else {
            throw .invalidSpec("the first layer width \(widths[0]) must equal the \(featureCount) features of \(dataName) (try --layers \(featureCount),\(widths.dropFirst().map(String.init).joined(separator: ",")))")
        }
        guard widths[widths.count - 1] >= classCount else {
            throw .invalidSpec("the last layer width \(widths[widths.count - 1]) must be at least the \(classCount) classes of \(dataName)")
        }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop(while: { $0 == set }).reversed().drop(while: { $0 == set }).reversed())
    }
}
