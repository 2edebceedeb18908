import ArgumentParser

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
}
