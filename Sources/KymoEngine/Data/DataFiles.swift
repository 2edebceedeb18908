import Foundation
import KymoCore

/// File access for the loaders: the one file of the data folder that touches the file system.
enum DataFiles {
    enum Kind { case missing, file, directory }

    /// - Complexity: O(1) (one `stat`).
    static func kind(of path: String) -> Kind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .missing }
        return isDirectory.boolValue ? .directory : .file
    }

    /// The names in a directory, sorted (so nothing depends on the file system's order).
    /// - Complexity: O(n log n) in the number of entries.
    static func contents(ofDirectory path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    /// `directory/name`.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The bytes of a file.
    /// - Throws: `EngineError.io` naming the path when it is missing or unreadable.
    /// - Complexity: O(n) in the file's size.
    static func read(_ path: String) throws(EngineError) -> [UInt8] {
        switch kind(of: path) {
        case .missing: throw .io(path: path, message: "no such file")
        case .directory: throw .io(path: path, message: "is a directory, expected a file")
        case .file: break
        }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return [UInt8](data)
        } catch {
            throw .io(path: path, message: "cannot read: \(error.localizedDescription)")
        }
    }

    /// The bytes of a file, inflated when they start with the gzip magic number.
    /// - Throws: as `read(_:)`, and `EngineError.malformedData` (field `gzip`) for a damaged
    ///   gzip stream.
    /// - Complexity: O(n) in the inflated size.
    static func readMaybeGzipped(_ path: String) throws(EngineError) -> [UInt8] {
        let bytes = try read(path)
        return try gunzipIfNeeded(bytes, source: path)
    }

    /// Inflates `bytes` when they start with the gzip magic number, else returns them.
    /// - Complexity: O(n) in the inflated size.
    static func gunzipIfNeeded(_ bytes: [UInt8], source: String) throws(EngineError) -> [UInt8] {
        guard Gzip.isGzip(bytes) else { return bytes }
        do {
            return try Gzip.decompress(bytes, source: source)
        } catch {
            switch error {
            case let .corrupt(_, offset, message), let .invalid(_, _, offset, message):
                throw .malformedData(source: source, field: "gzip", offset: offset, message: message)
            case let .truncated(_, field, offset, needed, available):
                throw .malformedData(source: source, field: field, offset: offset,
                                     message: "needs \(needed) bytes, only \(available) remain")
            case let .io(path, message):
                throw .io(path: path, message: message)
            }
        }
    }
}
