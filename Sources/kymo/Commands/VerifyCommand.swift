import ArgumentParser
import KymoStore

/// `kymo verify LAB [RUN]`: checks every checksum and the index; exit status 0 when sound.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Check every checksum and the commit log; report the file and offset of any damage.")

    @Argument(help: "The lab directory.") var lab: String
    @Argument(help: "One run (default: every run).") var runName: String?

    func run() throws {
        let lab = try Lab(existing: lab)
        let names = try runName.map { [$0] } ?? lab.runNames()
        var sound = true
        for name in names {
            let report = lab.verify(run: name)
            for damage in report.damage { print("DAMAGE \(name): \(damage)") }
            print("run \(name): \(report.isSound ? "sound" : "DAMAGED (\(report.damage.count) findings)"), \(report.chunksChecked) chunks, \(report.bytesChecked) bytes checked")
            sound = sound && report.isSound
        }
        if !sound { throw ExitCode(1) }
    }
}
