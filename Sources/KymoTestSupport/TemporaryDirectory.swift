import Foundation

/// A fresh directory for one test, removed when the value goes away. Tests run in parallel,
/// so each uses its own.
package final class TemporaryDirectory {
    package let url: URL
    package var path: String { url.path }

    package init(prefix: String = "kymo-test") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The path of `name` inside the directory.
    package func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}
