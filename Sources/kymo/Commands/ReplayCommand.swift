import ArgumentParser
import KymoEngine
import KymoReplay
import KymoStore

/// `kymo replay LAB RUN --steps A..B | --epoch X`: re-trains a segment bit for bit from its
/// checkpoint, verifies every checkpoint it passes, and answers exactly on the way.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-train steps of a recorded run bit for bit from its checkpoints and answer exactly.",
        discussion: """
            Restores the newest checkpoint at or before the first step, re-executes the steps with the \
            recorded data order and random state, compares every step's batch and loss with the run's log \
            and every checkpoint's state hash, and stops naming the first step that diverged. With \
            --weight, prints each weight's top samples by exact contribution (source: replay).

            Steps and epochs count as in kymo query (docs/QUERY.md, "Steps and epochs"): step N is \
            the N-th update (the training log's first step is step 1), --steps A..B is inclusive like \
            the language's STEPS A..B, --epoch X is 1-based as the log prints "epoch X/E", and the \
            state after step N is checkpoint key N.
            """)

    @Argument(help: "The lab directory.") var lab: String
    @Argument(help: "The run.") var runName: String
    @Option(help: "Steps to replay, A..B: the A-th through the B-th update, inclusive (1-based, as in kymo query).") var steps: String?
    @Option(help: "Replay one epoch, 1-based (epoch 1 is the first, as the training log prints it).") var epoch: Int?
    @Option(name: .customLong("weight"), help: "A weight to answer for, e.g. fc1[12,40] (repeatable).")
    var weights: [String] = []
    @Option(help: "Samples per weight.") var top = 10
    @Option(help: "Ranking: absolute, largest or smallest.") var ranking: String = "absolute"
    @Option(help: "Segments replayed at once (results are identical for any value).") var parallel = 2

    func validate() throws {
        guard (steps == nil) != (epoch == nil) else { throw ValidationError("give exactly one of --steps A..B or --epoch X") }
        if let steps, Self.range(steps) == nil { throw ValidationError("--steps must look like 100..200 (1-based, inclusive), not '\(steps)'") }
        if let epoch, epoch < 1 { throw ValidationError("--epoch is 1-based: the first epoch is 1") }
        guard ContributionRanking(rawValue: ranking) != nil else { throw ValidationError("--ranking is absolute, largest or smallest") }
        guard top > 0, parallel > 0 else { throw ValidationError("--top and --parallel must be positive") }
    }

    func run() throws {
        let source = try StoreCheckpointSource(lab: try Lab(existing: lab), run: runName)
        let replayer = try SegmentReplayer(source: source)
        // The engine's rows are 0-based: step N (1-based) is row N − 1.
        let range = try epoch.map { try replayer.steps(ofEpoch: $0 - 1) } ?? Self.range(steps!)!
        var request = ReplayRequest(steps: range)
        request.parallelism = parallel
        request.verifyThroughNextCheckpoint = true
        let ids = try weights.map { name in try replayer.layout.id(named: name) }
        request.topSamples = ids.map { TopSamplesQuery(parameter: $0, k: top, ranking: ContributionRanking(rawValue: ranking)!) }
        let result = try replayer.replay(request)
        let what = epoch.map { "epoch \($0) (steps \(range.lowerBound + 1)..\(range.upperBound))" } ?? "steps \(range.lowerBound + 1)..\(range.upperBound)"
        print("replayed \(what) of run \(runName): \(result.executedSteps) steps executed in \(result.segments.count) segment(s); checkpoints verified after steps \(result.verifiedCheckpoints.map(String.init).joined(separator: ", "))")
        for top in result.topSamples {
            print("\(replayer.layout.name(of: top.query.parameter)) — top \(top.query.k) samples by \(top.query.ranking.rawValue) contribution (source: replay, exact):")
            for entry in top.samples {
                print("  sample \(entry.sample)  contribution \(entry.total)  (\(entry.occurrences) step\(entry.occurrences == 1 ? "" : "s"))")
            }
        }
    }

    /// Parses "A..B" (1-based, inclusive, as the query language's STEPS A..B) into the engine's
    /// 0-based rows `A−1 ..< B`.
    static func range(_ text: String) -> Range<Int>? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: true)
        guard text.contains(".."), parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 1, a <= b else { return nil }
        return (a - 1)..<b
    }
}
