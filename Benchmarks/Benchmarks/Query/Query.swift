import Benchmark
import Foundation
import KymoQuery

// Query suite: each of the five study questions answered on a lab (open + parse + plan + execute +
// render, in process). The lab is $KYMO_QUERY_LAB (a recorded seed-scale store with runs "a" and
// "b") when set, else a demo lab of two small digits runs written once in setup. Whole-process
// figures: time `kymo query LAB 'QUERY'` (docs/README-executor.md).

let queryDemoLab = FileManager.default.temporaryDirectory.appendingPathComponent("kymo-query-bench-demo").path
let queryLab = ProcessInfo.processInfo.environment["KYMO_QUERY_LAB"] ?? queryDemoLab

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(metrics: [.wallClock], maxDuration: .seconds(5), maxIterations: 50)

    for (name, query) in QueryBenchmarkSupport.questions {
        Benchmark(name, configuration: configuration) { _ in
            let session = try QueryBenchmarkSession(lab: queryLab)
            blackHole(try session.answer(query))
        } setup: {
            if queryLab == queryDemoLab, !FileManager.default.fileExists(atPath: queryDemoLab + "/runs/a") {
                try QueryBenchmarkSupport.writeDemoLab(at: queryDemoLab)
            }
        }
    }
}
