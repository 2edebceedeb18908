import ArgumentParser

enum KymoVersion {
    static let string = "0.1.0"
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version of kymo and of its store format.")

    func run() {
        print("kymo \(KymoVersion.string)")
    }
}
