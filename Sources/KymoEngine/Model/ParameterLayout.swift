/// Where one scalar parameter lives.
package enum ParameterLocation: Hashable, Sendable {
    /// `fcL[row,column]`: weight `(row, column)` of Dense layer `layer` (0-based; `fc1` is layer 0).
    case weight(layer: Int, row: Int, column: Int)
    /// `fcL.bias[row]`.
    case bias(layer: Int, row: Int)
}

/// The global numbering of a model's parameters, the one every recorder tier, query and checkpoint
/// uses: Dense layers in order; in each, the weight `(out, in)` row-major, then the bias `(out)`.
///
/// Names: `fc1[12,40]` (layer fc1, row = output unit 12, column = input 40), `fc1.bias[3]`.
/// Selections accept `*` for a row or column: `fc1[12,*]` (a neuron's incoming weights),
/// `fc2[*,7]`, `fc1[*,*]`, `fc1.bias[*]`, and a bare layer name `fc1` (weights and bias).
package struct ParameterLayout: Sendable, Equatable {
    /// One Dense layer's slice of the parameter vector.
    package struct Layer: Sendable, Equatable {
        /// "fc1", "fc2", …
        package var name: String
        package var inFeatures: Int
        package var outFeatures: Int
        /// Global id of `name[0,0]`.
        package var weightOffset: Int
        /// Global id of `name.bias[0]`.
        package var biasOffset: Int
        package var weightCount: Int { inFeatures * outFeatures }
        /// Global ids of the weight matrix.
        package var weightRange: Range<Int> { weightOffset..<(weightOffset + weightCount) }
        /// Global ids of the bias.
        package var biasRange: Range<Int> { biasOffset..<(biasOffset + outFeatures) }
        /// Global ids of the whole layer.
        package var range: Range<Int> { weightOffset..<(biasOffset + outFeatures) }
    }

    package private(set) var layers: [Layer]
    /// Total number of parameters.
    package private(set) var count: Int

    /// - Complexity: O(layers).
    package init(widths: [Int]) {
        var layers: [Layer] = []
        var offset = 0
        for l in 0..<(widths.count - 1) {
            let (inF, outF) = (widths[l], widths[l + 1])
            layers.append(Layer(name: "fc\(l + 1)", inFeatures: inF, outFeatures: outF,
                                weightOffset: offset, biasOffset: offset + inF * outF))
            offset += inF * outF + outF
        }
        self.layers = layers
        self.count = offset
    }

    /// - Complexity: O(layers).
    package init(_ spec: ModelSpec) { self.init(widths: spec.widths) }

    /// The layer holding global id `id`.
    /// - Precondition: `0 <= id < count`.
    /// - Complexity: O(layers).
    package func layerIndex(of id: Int) -> Int {
        precondition(id >= 0 && id < count, "parameter id \(id) out of range 0..<\(count)")
        var l = 0
        while id >= layers[l].range.upperBound { l += 1 }
        return l
    }

    /// - Complexity: O(layers).
    package func location(of id: Int) -> ParameterLocation {
        let l = layerIndex(of: id)
        let layer = layers[l]
        if id >= layer.biasOffset { return .bias(layer: l, row: id - layer.biasOffset) }
        let local = id - layer.weightOffset
        return .weight(layer: l, row: local / layer.inFeatures, column: local % layer.inFeatures)
    }

    /// Global id of a location.
    /// - Precondition: the location is inside the model.
    /// - Complexity: O(1).
    package func id(of location: ParameterLocation) -> Int {
        switch location {
        case let .weight(l, row, column):
            precondition(row < layers[l].outFeatures && column < layers[l].inFeatures)
            return layers[l].weightOffset + row * layers[l].inFeatures + column
        case let .bias(l, row):
            precondition(row < layers[l].outFeatures)
            return layers[l].biasOffset + row
        }
    }

    /// "fc1[12,40]" or "fc1.bias[3]".
    /// - Complexity: O(layers).
    package func name(of id: Int) -> String {
        switch location(of: id) {
        case let .weight(l, row, column): "\(layers[l].name)[\(row),\(column)]"
        case let .bias(l, row): "\(layers[l].name).bias[\(row)]"
        }
    }

    /// The id named exactly (no wildcards).
    /// - Throws: `EngineError.invalidSpec` naming the bad part.
    /// - Complexity: O(length of name + layers).
    package func id(named name: String) throws(EngineError) -> Int {
        let ids = try select(name)
        guard ids.count == 1, !name.contains("*") else {
            throw .invalidSpec("'\(name)' names \(ids.count) parameters, expected exactly one")
        }
        return ids[0]
    }

    /// Global ids selected by a pattern, ascending: `fc1[12,40]`, `fc1[12,*]`, `fc1[*,3]`,
    /// `fc1[*,*]`, `fc1.bias[3]`, `fc1.bias[*]`, `fc1`.
    /// - Throws: `EngineError.invalidSpec` for an unknown layer, a malformed index or one out of range.
    /// - Complexity: O(layers + number of ids selected).
    package func select(_ pattern: String) throws(EngineError) -> [Int] {
        let text = pattern.filter { $0 != " " }
        let head = text.prefix { $0 != "[" && $0 != "." }
        guard let l = layers.firstIndex(where: { $0.name == head }) else {
            let names = layers.map(\.name).joined(separator: ", ")
            throw .invalidSpec("unknown layer '\(head)' in '\(pattern)' (layers: \(names))")
        }
        let layer = layers[l]
        var rest = text.dropFirst(head.count)
        if rest.isEmpty { return Array(layer.range) }
        var isBias = false
        if rest.hasPrefix(".bias") { isBias = true; rest = rest.dropFirst(5) }
        guard rest.first == "[", rest.last == "]" else {
            throw .invalidSpec("'\(pattern)': expected \(head)[row,column] or \(head).bias[row]")
        }
        let indices = rest.dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false)
        func parse(_ part: Substring, bound: Int, what: String) throws(EngineError) -> Range<Int> {
            if part == "*" { return 0..<bound }
            guard let value = Int(part), value >= 0, value < bound else {
                throw .invalidSpec("'\(pattern)': \(what) '\(part)' is not in 0..<\(bound)")
            }
            return value..<(value + 1)
        }
        if isBias {
            guard indices.count == 1 else { throw .invalidSpec("'\(pattern)': a bias takes one index") }
            return Array(try parse(indices[0], bound: layer.outFeatures, what: "row").map { layer.biasOffset + $0 })
        }
        guard indices.count == 2 else { throw .invalidSpec("'\(pattern)': a weight takes two indices [row,column]") }
        let rows = try parse(indices[0], bound: layer.outFeatures, what: "row")
        let columns = try parse(indices[1], bound: layer.inFeatures, what: "column")
        var ids: [Int] = []
        ids.reserveCapacity(rows.count * columns.count)
        for r in rows {
            for c in columns { ids.append(layer.weightOffset + r * layer.inFeatures + c) }
        }
        return ids
    }
}
