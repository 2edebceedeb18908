import Foundation
import KymoCore

/// Times closures for ratio reports: interleaves the contenders so drift on a shared, noisy
/// machine hits both alike, and reports medians.
enum Stopwatch {
    /// Seconds taken by one call of `body`.
    static func time(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// CPU seconds this thread spent (user + system) in one call of `body`: on a shared machine
    /// this excludes time spent descheduled (cache sharing with other processes still shows).
    static func threadCPUTime(_ body: () -> Void) -> Double {
        let start = ThreadCPUClock.seconds()
        body()
        return ThreadCPUClock.seconds() - start
    }

    /// Median seconds of `rounds` interleaved runs of each contender.
    static func interleavedMedians(rounds: Int, _ contenders: [() -> Void]) -> [Double] {
        medians(rounds: rounds, contenders, measure: time)
    }

    /// Median thread CPU seconds of `rounds` interleaved runs of each contender.
    static func threadCPUMedians(rounds: Int, _ contenders: [() -> Void]) -> [Double] {
        medians(rounds: rounds, contenders, measure: threadCPUTime)
    }

    /// The 1-, 5- and 15-minute load averages, for printing beside figures from a shared machine.
    static func loadAverage() -> String {
        var loads = [Double](repeating: 0, count: 3)
        guard getloadavg(&loads, 3) == 3 else { return "unknown" }
        return loads.map { String(format: "%.2f", $0) }.joined(separator: " ")
            + " (\(ProcessInfo.processInfo.activeProcessorCount) cores)"
    }

    private static func medians(rounds: Int, _ contenders: [() -> Void],
                                measure: (() -> Void) -> Double) -> [Double] {
        var samples = Array(repeating: [Double](), count: contenders.count)
        for _ in 0..<rounds {
            for (i, body) in contenders.enumerated() { samples[i].append(measure(body)) }
        }
        return samples.map { s in
            let sorted = s.sorted()
            return sorted[sorted.count / 2]
        }
    }
}
