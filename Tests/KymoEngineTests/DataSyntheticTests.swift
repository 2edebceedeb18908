import Testing
@testable import KymoEngine

@Suite struct DataSyntheticTests {
    @Test func sameSeedSameBitsOtherSeedOtherBits() throws {
        let source = DataSource.synthetic(count: 2000, featureCount: 50, classCount: 7)
        let a = try source.load(seed: 11)
        let b = try source.load(seed: 11)
        let c = try source.load(seed: 12)
        #expect(a.fingerprint == b.fingerprint)
        #expect(a.features == b.features)
        #expect(a.labels == b.labels)
        #expect(a.fingerprint != c.fingerprint)
        #expect(a.features != c.features)
    }

    @Test func shapeRangeAndEveryClassPresent() throws {
        let dataset = try DataSource.synthetic(count: 5000, featureCount: 30, classCount: 10).load(seed: 3)
        #expect(dataset.count == 5000)
        #expect(dataset.featureCount == 30)
        #expect(dataset.classCount == 10)
        #expect(dataset.features.count == 5000 * 30)
        #expect(dataset.features.allSatisfy { $0 >= 0 && $0 <= 1 })
        var counts = [Int](repeating: 0, count: 10)
        for label in dataset.labels { counts[Int(label)] += 1 }
        // Uniform labels: 500 expected per class; 350 is more than 6 standard deviations away.
        #expect(counts.allSatisfy { $0 > 350 && $0 < 650 }, "\(counts)")
    }

    @Test func classesDifferInTheirMeans() throws {
        // Not a learnability test (the engine has that): only that labels carry signal.
        let dataset = try DataSource.synthetic(count: 4000, featureCount: 20, classCount: 2).load(seed: 5)
        var sums = [[Double]](repeating: [Double](repeating: 0, count: 20), count: 2)
        var counts = [0, 0]
        for s in 0..<dataset.count {
            let label = Int(dataset.labels[s])
            counts[label] += 1
            for j in 0..<20 { sums[label][j] += Double(dataset.features[s * 20 + j]) }
        }
        let gap = (0..<20).map { abs(sums[0][$0] / Double(counts[0]) - sums[1][$0] / Double(counts[1])) }.max()!
        #expect(gap > 0.05)
    }

    @Test func prefixOfALargerSetIsNotRequiredButSizesAreChecked() {
        #expect(throws: EngineError.self) { try DataSource.synthetic(count: 0, featureCount: 10, classCount: 2).load(seed: 0) }
        #expect(throws: EngineError.self) { try DataSource.synthetic(count: 10, featureCount: 10, classCount: 1).load(seed: 0) }
        #expect(throws: EngineError.self) { try DataSource.synthetic(count: 1 << 20, featureCount: 1 << 20, classCount: 2).load(seed: 0) }
    }

    @Test func goldenFingerprintPinsTheAlgorithm() throws {
        // The algorithm is part of the determinism contract: a change must be deliberate.
        let dataset = try DataSource.synthetic(count: 100, featureCount: 16, classCount: 4).load(seed: 42)
        #expect(dataset.fingerprint == DataSyntheticTests.golden, "fingerprint is \(String(dataset.fingerprint, radix: 16))")
    }

    static let golden: UInt64 = 0x9b26_e175_6a30_d4a1
}
