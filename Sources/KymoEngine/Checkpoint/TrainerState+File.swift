import Foundation

extension TrainerState {
    /// Writes the checkpoint atomically: to `path.tmp`, then `rename(2)` over `path`, so a crash
    /// leaves either the previous checkpoint or the new one, never a torn file.
    /// - Throws: `EngineError.io` naming the path.
    /// - Complexity: O(P).
    package func write(to path: String) throws(EngineError) {
        let temporary = path + ".tmp"
        let bytes = serialized()
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: temporary))
        } catch {
            throw .io(path: temporary, message: "cannot write checkpoint: \(error.localizedDescription)")
        }
        guard rename(temporary, path) == 0 else {
            throw .io(path: path, message: "cannot rename \(temporary) over it: \(String(cString: strerror(errno)))")
        }
    }

    /// Reads and verifies a checkpoint file.
    /// - Throws: `EngineError.io` when unreadable, `EngineError.corruptCheckpoint` when damaged.
    /// - Complexity: O(file size).
    package init(contentsOf path: String) throws(EngineError) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .io(path: path, message: "cannot read checkpoint: \(error.localizedDescription)")
        }
        try self.init(deserializing: [UInt8](data), source: path)
    }
}
