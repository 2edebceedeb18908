import Foundation
import KymoCore

/// How a run stands.
public enum RunStatus: Codable, Equatable, Sendable, CustomStringConvertible {
    case running
    case finished
    /// Training diverged at `step` (a NaN loss, a failed replay hash, …).
    case diverged(step: Int, message: String)

    public var description: String {
        switch self {
        case .running: "running"
        case .finished: "finished"
        case let .diverged(step, message): "diverged at step \(step): \(message)"
        }
    }
}

/// A run's manifest: what it is and how it stands. Stored as `manifest.json` (sorted keys) with
/// a `checksum` member (XXH3 of the rest, see docs/format/store.md), replaced atomically.
public struct RunManifest: Codable, Equatable, Sendable {
    /// The store format this run was written with.
    public var formatVersion: Int
    /// Training configuration, key → value text.
    public var config: [String: String]
    /// Named seeds (run, data order, init, sketches).
    public var seeds: [String: UInt64]
    public var modelSpec: String
    public var datasetFingerprint: String
    public var toolchain: String
    /// Tiers recorded, e.g. ["t0", "t1", "t2"].
    public var tiers: [String]
    public var status: RunStatus
    /// Set by `finish()`: the number of commits and the commit log's length, so a verifier can
    /// tell a finished run's log was not cut short.
    public var finalCommitCount: Int?
    public var finalLogLength: Int?

    public static let currentFormatVersion = 1

    /// - Complexity: O(1).
    public init(config: [String: String] = [:], seeds: [String: UInt64] = [:], modelSpec: String = "",
                datasetFingerprint: String = "", toolchain: String = "", tiers: [String] = []) {
        self.formatVersion = Self.currentFormatVersion
        self.config = config
        self.seeds = seeds
        self.modelSpec = modelSpec
        self.datasetFingerprint = datasetFingerprint
        self.toolchain = toolchain
        self.tiers = tiers
        self.status = .running
    }

    static let checksumPrefix = Array(#"{"checksum":""#.utf8)

    /// The file's bytes: `{"checksum":"<16 hex digits>",` followed by the sorted-keys JSON
    /// encoding of the manifest without its opening brace.
    /// - Complexity: O(size).
    func encoded() throws(StoreError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let body: [UInt8]
        do { body = [UInt8](try encoder.encode(self)) } catch { throw .invalidArgument("manifest: \(error)") }
        let sum = body.withUnsafeBytes { XXH3.hash($0) }
        var hexDigits = String(sum, radix: 16)
        hexDigits = String(repeating: "0", count: 16 - hexDigits.count) + hexDigits
        return Self.checksumPrefix + Array(hexDigits.utf8) + Array("\",".utf8) + body.dropFirst()
    }

    /// Decodes and checks a manifest file's bytes.
    /// - Complexity: O(size).
    static func decode(_ bytes: [UInt8], file: String) throws(StoreError) -> RunManifest {
        let prefix = checksumPrefix.count
        guard bytes.count > prefix + 18 else { throw .corrupt(file: file, offset: bytes.count, message: "manifest truncated") }
        for i in 0..<prefix where bytes[i] != checksumPrefix[i] {
            throw .corrupt(file: file, offset: i, message: "manifest does not start with its checksum")
        }
        guard bytes[prefix + 16] == UInt8(ascii: "\""), bytes[prefix + 17] == UInt8(ascii: ","),
              let stored = UInt64(String(decoding: bytes[prefix..<(prefix + 16)], as: UTF8.self), radix: 16) else {
            throw .corrupt(file: file, offset: prefix, message: "manifest checksum field is malformed")
        }
        let body = [UInt8(ascii: "{")] + bytes[(prefix + 18)...]
        let actual = body.withUnsafeBytes { XXH3.hash($0) }
        guard actual == stored else {
            throw .corrupt(file: file, offset: prefix + 18, message: "manifest checksum \(CommitLog.hex(stored)) ≠ computed \(CommitLog.hex(actual))")
        }
        let manifest: RunManifest
        do {
            manifest = try JSONDecoder().decode(RunManifest.self, from: Data(body))
        } catch {
            throw .corrupt(file: file, offset: prefix + 18, message: "manifest JSON: \(error)")
        }
        guard manifest.formatVersion == currentFormatVersion else {
            throw .corrupt(file: file, offset: prefix + 18,
                           message: "store format version \(manifest.formatVersion); this kymo reads version \(currentFormatVersion)")
        }
        return manifest
    }
}
