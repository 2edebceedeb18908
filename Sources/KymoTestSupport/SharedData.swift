import Foundation

/// Where the project's test data lives: `../shared/data` beside the clone (as CI lays it out),
/// or the folder named by `KYMO_SHARED_DATA`.
package enum SharedData {
    /// The data folder.
    /// - Throws: when neither location exists, with a message that says how to provide it.
    package static func directory(file: StaticString = #filePath) throws -> URL {
        if let explicit = ProcessInfo.processInfo.environment["KYMO_SHARED_DATA"] {
            return URL(fileURLWithPath: explicit)
        }
        // <root>/Tests/<Target>/<File>.swift → <root>/../shared/data
        let root = URL(fileURLWithPath: "\(file)").deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let candidate = root.deletingLastPathComponent().appendingPathComponent("shared/data")
        guard FileManager.default.fileExists(atPath: candidate.path) else {
            throw SharedDataMissing(looked: candidate.path)
        }
        return candidate
    }

    /// The path of `relative` inside the data folder, e.g. `"mnist/train-labels-idx1-ubyte.gz"`.
    package static func path(_ relative: String, file: StaticString = #filePath) throws -> String {
        try directory(file: file).appendingPathComponent(relative).path
    }

    /// The bytes of a file in the data folder.
    package static func bytes(_ relative: String, file: StaticString = #filePath) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(relative, file: file))))
    }
}

package struct SharedDataMissing: Error, CustomStringConvertible {
    package let looked: String
    package var description: String {
        "test data not found at \(looked); clone beside ../shared or set KYMO_SHARED_DATA"
    }
}
