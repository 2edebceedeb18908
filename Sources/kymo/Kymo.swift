import ArgumentParser
import KymoCore

/// `kymo`: record how a network learns, then ask about it.
@main
struct Kymo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kymo",
        abstract: "Record how a neural network learns; query it with error bounds; replay it bit for bit.",
        version: KymoVersion.string,
        subcommands: [
            RecordCommand.self, QueryCommand.self, ReplayCommand.self, TrainCommand.self,
            InspectCommand.self, VerifyCommand.self, ReportCommand.self, ExportCommand.self,
            VersionCommand.self, StoreCrashWriterCommand.self,
        ]
    )

    /// Tunes the allocator for the whole process (`ProcessMemory.keepFreedBlocks`), then parses
    /// and runs the subcommand as ArgumentParser's own `main` would.
    static func main() async {
        ProcessMemory.keepFreedBlocks()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
