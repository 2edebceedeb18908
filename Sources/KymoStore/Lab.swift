/// A lab: a directory of runs, `LAB/runs/<name>/` (see docs/format/store.md).
///
/// ```swift
/// let lab = try Lab(path: "lab")
/// let writer = try lab.createRun("mnist-a", manifest: RunManifest(tiers: ["t0"]))
/// try writer.append(column: "t0/loss", steps: 0..<64, .float32(losses))
/// try writer.commit(through: 63)
/// let reader = try lab.openRun("mnist-a")      // snapshot at the last commit
/// let loss = try reader.read(column: "t0/loss", steps: 0..<64)
/// ```
public final class Lab {
    public let path: String
    /// zstd level for new chunks (1: measured 280–500 MB/s; higher levels gain little on floats).
    public var compressionLevel: Int32 = 1

    /// Opens the lab at `path`, creating the directory if needed.
    /// - Complexity: O(1).
    public init(path: String) throws(StoreError) {
        self.path = path
        try StoreFS.makeDirectory(path + "/runs")
    }

    /// Opens an existing lab without creating anything.
    /// - Complexity: O(1).
    public init(existing path: String) throws(StoreError) {
        guard StoreFS.exists(path + "/runs") else { throw .notFound("lab '\(path)' (no runs/ directory)") }
        self.path = path
    }

    func directory(of run: String) -> String { path + "/runs/" + run }

    static func checkName(_ name: String) throws(StoreError) {
        guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/"), name.utf8.count <= 200 else {
            throw .invalidArgument("run name '\(name)' must be non-empty, without '/', not starting with '.'")
        }
    }

    /// Names of the runs, sorted.
    /// - Complexity: O(r log r).
    public func runNames() throws(StoreError) -> [String] {
        try StoreFS.list(path + "/runs").filter { StoreFS.exists(directory(of: $0) + "/commits.klog") }
    }

    /// Creates a run and returns its writer (which holds the run's lock).
    /// - Complexity: O(1) plus a few fsyncs.
    public func createRun(_ name: String, manifest: RunManifest) throws(StoreError) -> RunWriter {
        try Self.checkName(name)
        return try RunWriter(creating: directory(of: name), name: name, manifest: manifest, compressionLevel: compressionLevel)
    }

    /// Reopens an unfinished run to continue writing it; cuts a torn tail left by a crash.
    /// - Complexity: O(size of the commit log).
    public func openRunForWriting(_ name: String) throws(StoreError) -> RunWriter {
        try Self.checkName(name)
        return try RunWriter(reopening: directory(of: name), name: name, compressionLevel: compressionLevel)
    }

    /// Opens a read-only snapshot of a run at its last commit.
    /// - Complexity: O(size of the commit log); reads no column data.
    public func openRun(_ name: String) throws(StoreError) -> RunReader {
        try Self.checkName(name)
        return try RunReader(directory: directory(of: name), name: name)
    }

    /// Checks every checksum, the commit log and the segment layout of a run.
    /// - Complexity: O(bytes of the run).
    public func verify(run name: String) -> VerifyReport {
        Verifier.verify(directory: directory(of: name), name: name)
    }
}
