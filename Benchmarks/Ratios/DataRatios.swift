import Foundation
import KymoEngine

/// `kymo-ratios data`: the synthetic generator at seed scale (100,000 × 784, 10 classes) against
/// the floor of writing the same 78.4 M Floats into a fresh array.
func dataRatios() throws {
    let count = 100_000, featureCount = 784
    var checksum: Float = 0
    let medians = Stopwatch.interleavedMedians(rounds: 5, [
        {
            let (features, labels) = SyntheticData.generate(count: count, featureCount: featureCount, classCount: 10, seed: 1)
            checksum += features[features.count / 2] + Float(labels[7])
        },
        {
            let floor = [Float](unsafeUninitializedCapacity: count * featureCount) { buffer, initialized in
                for i in 0..<buffer.count { buffer[i] = Float(i & 0xFF) }
                initialized = buffer.count
            }
            checksum += floor[floor.count / 2]
        },
    ])
    let (generator, floor) = (medians[0], medians[1])
    print("synthetic 100000x784x10: \(String(format: "%.3f", generator)) s  (\(String(format: "%.2f", generator * 1e9 / Double(count * featureCount))) ns/value)")
    print("write-only floor:        \(String(format: "%.3f", floor)) s")
    print("ratio generator/floor:   \(String(format: "%.2f", generator / floor))x   (checksum \(checksum))")
}
