import Foundation

/// Times closures for ratio reports: interleaves the contenders so drift on a shared, noisy
/// machine hits both alike, and reports medians.
enum Stopwatch {
    /// Seconds taken by one call of `body`.
    static func time(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Median seconds of `rounds` interleaved runs of each contender.
    static func interleavedMedians(rounds: Int, _ contenders: [() -> Void]) -> [Double] {
        var samples = Array(repeating: [Double](), count: contenders.count)
        for _ in 0..<rounds {
            for (i, body) in contenders.enumerated() { samples[i].append(time(body)) }
        }
        return samples.map { s in
            let sorted = s.sorted()
            return sorted[sorted.count / 2]
        }
    }
}
