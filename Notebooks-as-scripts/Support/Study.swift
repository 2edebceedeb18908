// Plumbing shared by the studies in Notebooks-as-scripts/<study>/main.swift: argument parsing,
// the output folder, number formatting, chart files, the study's lab, and the query and replay
// sessions over it.

import Foundation
import KymoQuery
import KymoReplay
import KymoReport
import KymoStore

/// One study's name, output folder and clock.
@MainActor package final class Study {
    /// The executable's name, e.g. `study-ordering` (prefixes error messages).
    package let name: String
    /// Where the study writes its lab and pictures.
    package let outDir: String
    package let clock = ContinuousClock()
    package let started: ContinuousClock.Instant

    /// Parses `--out DIR` and the study's own options: `handle(flag, next)` returns false for an
    /// unknown flag, which prints `usage` and exits (0 for `--help`, 2 otherwise). `next()` is the
    /// flag's value, nil at the end of the arguments.
    /// - Complexity: O(arguments).
    package init(name: String, outDir defaultOut: String, usage: String,
                 _ handle: (_ flag: String, _ next: () -> String?) -> Bool) {
        self.name = name
        var out = defaultOut
        var args = CommandLine.arguments.dropFirst().makeIterator()
        while let a = args.next() {
            if a == "--out" { out = args.next() ?? out; continue }
            if !handle(a, { args.next() }) {
                print(usage)
                exit(a == "--help" ? 0 : 2)
            }
        }
        outDir = out
        started = clock.now
    }

    /// Prints `name: message` to standard error and exits with 1.
    /// - Complexity: O(message length).
    package func fail(_ message: String) -> Never {
        fflush(nil)
        FileHandle.standardError.write(Data("\(name): \(message)\n".utf8))
        exit(1)
    }

    /// Removes the output folder and creates it again (and `subdirectory` inside it, if given).
    /// - Complexity: O(files in the old folder).
    package func freshOutput(subdirectory: String? = nil) throws {
        try? FileManager.default.removeItem(atPath: outDir)
        try FileManager.default.createDirectory(atPath: subdirectory.map { "\(outDir)/\($0)" } ?? outDir,
                                                withIntermediateDirectories: true)
    }

    /// Writes the chart's SVG as `outDir/file` and says so.
    /// - Complexity: O(size of the rendered chart).
    package func write(_ chart: Chart, _ file: String) {
        let path = "\(outDir)/\(file)"
        _ = FileManager.default.createFile(atPath: path, contents: Data(chart.rendered().utf8))
        print("wrote \(path)")
    }

    /// Seconds since `start` (by default since the study started).
    /// - Complexity: O(1).
    package func elapsed(since start: ContinuousClock.Instant? = nil) -> Double {
        seconds(clock.now - (start ?? started))
    }

    /// The study's lab folder.
    /// - Complexity: O(1).
    package var labPath: String { "\(outDir)/lab" }

    /// A query session over the study's lab.
    /// - Complexity: O(runs in the lab) to open their catalogs.
    package func querySession(defaultRun: String) throws -> QuerySession {
        try QuerySession(labPath: labPath, defaultRun: defaultRun)
    }

    /// A replayer of one recorded run of the study's lab.
    /// - Complexity: O(checkpoints of the run) to index them.
    package func replayer(run: String) throws -> SegmentReplayer {
        try SegmentReplayer(source: try StoreCheckpointSource(lab: Lab(existing: labPath), run: run))
    }
}

extension QuerySession {
    /// Parses and executes one `kymo query` text against this session's runs.
    /// - Complexity: that of the query.
    package func execute(_ text: String) throws -> Execution {
        try Executor(runs: runs, replay: replay).execute(try Parser.parse(text))
    }
}

/// `x` with `digits` decimals.
/// - Complexity: O(digits).
package func f(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }
/// `s` right-aligned in `n` columns.
/// - Complexity: O(n).
package func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
/// `s` left-aligned in `n` columns.
/// - Complexity: O(n).
package func padRight(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
/// A duration in seconds.
/// - Complexity: O(1).
package func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
/// `x` in scientific notation with 3 decimals.
/// - Complexity: O(1).
package func e(_ x: Double) -> String { String(format: "%.3e", x) }
