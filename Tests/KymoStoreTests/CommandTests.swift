import Foundation
import Testing
@testable import KymoStore
import KymoTestSupport

/// Runs the built `kymo` and returns its exit status and standard output.
func runKymo(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let child = Process()
    child.executableURL = URL(fileURLWithPath: try kymoExecutable())
    child.arguments = arguments
    let pipe = Pipe()
    child.standardOutput = pipe
    child.standardError = pipe
    try child.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    child.waitUntilExit()
    return (child.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite struct CommandTests {
    @Test func inspectVerifyAndExportFromTheCommandLine() throws {
        let dir = try TemporaryDirectory()
        let lab = try Lab(path: dir.path)
        let writer = try lab.createRun("a", manifest: RunManifest(tiers: ["t0", "t2"]))
        try SyntheticColumns.writeBlocks(writer, blocks: 4, stepsPerBlock: 8, width: 64) { _ in }
        try writer.finish()

        let inspect = try runKymo(["inspect", dir.path])
        #expect(inspect.status == 0)
        #expect(inspect.output.contains("run a: finished; steps committed 0..<32"))
        #expect(inspect.output.contains("t2/w") && inspect.output.contains("tier t0:") && inspect.output.contains("tier t2:"))

        let sound = try runKymo(["verify", dir.path, "a"])
        #expect(sound.status == 0)
        #expect(sound.output.contains("run a: sound"))

        for format in ["npy", "csv"] {
            let first = dir.file("one.\(format)"), second = dir.file("two.\(format)")
            #expect(try runKymo(["export", dir.path, "a", "t2/w", "--format", format, "--out", first]).status == 0)
            #expect(try runKymo(["export", dir.path, "a", "t2/w", "--format", format, "--out", second]).status == 0)
            #expect(FileManager.default.contents(atPath: first) == FileManager.default.contents(atPath: second))
        }

        // Flip one byte in the middle of the segment: verify names the file and an offset, exits 1.
        let segment = dir.path + "/runs/a/segments/000000.kseg"
        var bytes = [UInt8](FileManager.default.contents(atPath: segment)!)
        bytes[bytes.count / 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: segment))
        let damaged = try runKymo(["verify", dir.path])
        #expect(damaged.status == 1)
        #expect(damaged.output.contains("DAMAGE a: \(segment) at offset "))
    }
}
