import ArgumentParser
import Foundation
import KymoStore

/// Hidden: writes and commits blocks of synthetic columns forever (or `--blocks` times),
/// printing "committed STEP" after each commit. The store's crash harness kills it at random.
struct StoreCrashWriterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_store-crash-writer", abstract: "Test helper for the store's crash harness.", shouldDisplay: false)

    @Argument var lab: String
    @Argument var runName: String
    @Option var blocks: Int = Int.max
    @Option var stepsPerBlock: Int = 8
    @Option var width: Int = 256

    func run() throws {
        let lab = try Lab(path: lab)
        let writer = try lab.runNames().contains(runName) ? lab.openRunForWriting(runName) : lab.createRun(runName, manifest: RunManifest(tiers: ["t0", "t2"]))
        try SyntheticColumns.writeBlocks(writer, blocks: blocks, stepsPerBlock: stepsPerBlock, width: width) { step in
            print("committed \(step)")
            fflush(nil)
        }
    }
}
