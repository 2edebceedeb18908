import Foundation
import Testing
@testable import KymoEngine

@Suite struct ModelSpecTests {
    @Test func parsesLayers() throws {
        let spec = try ModelSpec(layers: "784, 512,256,10", activation: .tanh, dropout: 0.1)
        #expect(spec.widths == [784, 512, 256, 10])
        #expect(spec.denseCount == 3)
        #expect(spec.layersText == "784,512,256,10")
        for bad in ["", "784", "784,,10", "784,-3,10", "784,x,10"] {
            #expect(throws: EngineError.self, "\(bad)") { try ModelSpec(layers: bad) }
        }
        #expect(throws: EngineError.self) { try ModelSpec(layers: "4,2", dropout: 1) }
    }

    @Test func checksTheData() throws {
        let spec = try ModelSpec(layers: "64,32,10")
        #expect(throws: Never.self) { try spec.check(featureCount: 64, classCount: 10, dataName: "digits") }
        #expect(throws: Never.self) { try spec.check(featureCount: 64, classCount: 7, dataName: "digits") }
        do {
            try spec.check(featureCount: 784, classCount: 10, dataName: "mnist")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("784"))
            #expect(error.description.contains("64"))
        }
        #expect(throws: EngineError.self) { try spec.check(featureCount: 64, classCount: 11, dataName: "x") }
    }

    @Test func configFromJSONWithDefaults() throws {
        let json = """
        { "layers": "6,5,3", "activation": "tanh", "dropout": 0.2,
          "optimizer": { "kind": "adamw", "learningRate": 0.001, "weightDecay": 0.01 },
          "schedule": "warmup:10+cosine", "epochs": 4, "seed": 99 }
        """
        let config = try JSONDecoder().decode(TrainingConfig.self, from: Data(json.utf8))
        #expect(config.model == (try ModelSpec(layers: "6,5,3", activation: .tanh, dropout: 0.2)))
        #expect(config.optimizer.kind == .adamw)
        #expect(config.optimizer.learningRate == 0.001)
        #expect(config.optimizer.beta2 == 0.999) // default
        #expect(config.schedule == .warmup(steps: 10, then: .cosine(minimum: 0)))
        #expect(config.batchSize == 64)
        #expect(config.epochs == 4)
        #expect(config.seed == 99)
        #expect(config.data == "digits")
        let again = try JSONDecoder().decode(TrainingConfig.self, from: JSONEncoder().encode(config))
        #expect(again == config)
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(TrainingConfig.self, from: Data(#"{"layers": "6,,3"}"#.utf8))
        }
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(TrainingConfig.self, from: Data(#"{"schedule": "sometimes"}"#.utf8))
        }
    }
}

@Suite struct ParameterLayoutTests {
    let layout = ParameterLayout(widths: [4, 3, 2])

    @Test func numbering() {
        // fc1: weights 0..<12, bias 12..<15; fc2: weights 15..<21, bias 21..<23.
        #expect(layout.count == 23)
        #expect(layout.layers.map(\.name) == ["fc1", "fc2"])
        #expect(layout.layers[1].weightOffset == 15)
        #expect(layout.layers[1].biasOffset == 21)
        #expect(layout.location(of: 0) == .weight(layer: 0, row: 0, column: 0))
        #expect(layout.location(of: 6) == .weight(layer: 0, row: 1, column: 2))
        #expect(layout.location(of: 13) == .bias(layer: 0, row: 1))
        #expect(layout.location(of: 18) == .weight(layer: 1, row: 1, column: 0))
        #expect(layout.location(of: 22) == .bias(layer: 1, row: 1))
        for id in 0..<layout.count {
            #expect(layout.id(of: layout.location(of: id)) == id)
            #expect((try? layout.id(named: layout.name(of: id))) == id)
        }
        #expect(layout.name(of: 6) == "fc1[1,2]")
        #expect(layout.name(of: 13) == "fc1.bias[1]")
    }

    @Test func wildcards() throws {
        #expect(try layout.select("fc1[1,*]") == [4, 5, 6, 7])
        #expect(try layout.select("fc1[*,2]") == [2, 6, 10])
        #expect(try layout.select("fc2[*,*]") == Array(15..<21))
        #expect(try layout.select("fc2.bias[*]") == [21, 22])
        #expect(try layout.select("fc1") == Array(0..<15))
        #expect(try layout.select("fc2[1,2]") == [20])
        for bad in ["fc3[0,0]", "fc1[3,0]", "fc1[0,4]", "fc1[0]", "fc1.bias[0,1]", "fc1.bias[3]", "fc1[a,b]", "fc1(0,0)"] {
            #expect(throws: EngineError.self, "\(bad)") { try layout.select(bad) }
        }
        #expect(throws: EngineError.self) { try layout.id(named: "fc1[1,*]") }
    }
}
