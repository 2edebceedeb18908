@testable import KymoQuery

/// A lab with two runs of a 784-512-256-10 MLP, for the semantic checks.
struct FakeCatalog: QueryCatalog {
    var runNames = ["a", "b", "seed-1", "seed-2"]
    var defaultRun: String? = "a"
    var layerNames = ["fc1", "fc2", "fc3"]
    var shapes: [(String, LayerShape)] = [
        ("fc1", LayerShape(rows: 512, columns: 784)),
        ("fc2", LayerShape(rows: 256, columns: 512)),
        ("fc3", LayerShape(rows: 10, columns: 256, hasBias: false)),
    ]
    var steps = 4690
    var epochs = 3

    func shape(ofLayer layer: String) -> LayerShape? { shapes.first { $0.0 == layer }?.1 }
    func stepCount(ofRun run: String) -> Int? { runNames.contains(run) ? steps : nil }
    func epochCount(ofRun run: String) -> Int? { runNames.contains(run) ? epochs : nil }
}
