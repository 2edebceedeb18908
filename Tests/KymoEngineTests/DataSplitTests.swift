import Testing
@testable import KymoEngine

@Suite struct DataSplitTests {
    private func sample(count: Int) throws -> Dataset {
        try DataSource.synthetic(count: count, featureCount: 5, classCount: 3).load(seed: 9)
    }

    @Test(arguments: [0.0, 0.1, 0.25, 0.5, 1.0])
    func splitIsAPartitionOfTheRightSize(fraction: Double) throws {
        let dataset = try sample(count: 1001)
        let (train, probe) = dataset.splitIndices(probeFraction: fraction, seed: 4)
        #expect(probe.count == Int((1001 * fraction).rounded(.toNearestOrAwayFromZero)))
        #expect(train.count + probe.count == 1001)
        #expect((train + probe).sorted() == (0..<1001).map { Int32($0) })
        #expect(train == train.sorted())
        #expect(probe == probe.sorted())
    }

    @Test func splitDatasetsHoldTheMappedRows() throws {
        let dataset = try sample(count: 300)
        let indices = dataset.splitIndices(probeFraction: 0.2, seed: 7)
        let (train, probe) = dataset.split(probeFraction: 0.2, seed: 7)
        #expect(train.count == 240)
        #expect(probe.count == 60)
        #expect(train.featureCount == 5 && train.classCount == 3)
        for (i, source) in indices.train.enumerated() {
            let s = Int(source)
            #expect(train.labels[i] == dataset.labels[s])
            #expect(Array(train.features[(i * 5)..<(i * 5 + 5)]) == Array(dataset.features[(s * 5)..<(s * 5 + 5)]))
        }
        for (i, source) in indices.probe.enumerated() {
            #expect(probe.labels[i] == dataset.labels[Int(source)])
        }
    }

    @Test func splitIsDeterministicAndDependsOnTheSeed() throws {
        let dataset = try sample(count: 500)
        let a = dataset.splitIndices(probeFraction: 0.3, seed: 1)
        let b = dataset.splitIndices(probeFraction: 0.3, seed: 1)
        let c = dataset.splitIndices(probeFraction: 0.3, seed: 2)
        #expect(a.probe == b.probe)
        #expect(a.probe != c.probe)
        #expect(dataset.split(probeFraction: 0.3, seed: 1).train.fingerprint == dataset.split(probeFraction: 0.3, seed: 1).train.fingerprint)
    }

    @Test func fingerprintCoversShapeFeaturesAndLabels() throws {
        let dataset = try sample(count: 50)
        var feature = dataset
        feature.features[17] = feature.features[17] + 0.5
        var label = dataset
        label.labels[3] = (label.labels[3] + 1) % 3
        var classes = dataset
        classes.classCount = 4
        var reshaped = dataset
        reshaped.featureCount = 10
        reshaped.labels = Array(reshaped.labels.prefix(25))
        var renamed = dataset
        renamed.name = "other"
        let fingerprints = [dataset, feature, label, classes, reshaped].map(\.fingerprint)
        #expect(Set(fingerprints).count == 5)
        #expect(renamed.fingerprint == dataset.fingerprint)
    }
}
