#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Injects failures into the store's writes, for tests: called before every write and fsync
/// with the operation ("write", "fsync", "truncate", "rename") and the file's path; a non-nil
/// result is the `errno` to fail with. A failing write first writes half of its bytes, as a
/// disk that fills up mid-write does.
typealias FaultHook = @Sendable (_ operation: String, _ path: String) -> Int32?

/// An open file: the one place the store calls POSIX, turning return codes into `StoreError.io`.
final class StoreFile {
    let path: String
    let descriptor: Int32
    var faultHook: FaultHook?

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Opens an existing file for reading.
    /// - Complexity: O(1).
    static func openForReading(_ path: String) throws(StoreError) -> StoreFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw .notFound(path) }
            throw .io(file: path, offset: nil, operation: "open", message: errorText(code))
        }
        return StoreFile(path: path, descriptor: fd)
    }

    /// Opens (and with `create`, creates) a file for reading and writing.
    /// - Complexity: O(1).
    static func openForWriting(_ path: String, create: Bool, exclusive: Bool = false) throws(StoreError) -> StoreFile {
        var flags = O_RDWR | O_CLOEXEC
        if create { flags |= O_CREAT }
        if exclusive { flags |= O_EXCL }
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw .notFound(path) }
            throw .io(file: path, offset: nil, operation: "open", message: errorText(code))
        }
        return StoreFile(path: path, descriptor: fd)
    }

    /// The file's current size.
    /// - Complexity: O(1).
    func size() throws(StoreError) -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw .io(file: path, offset: nil, operation: "fstat", message: Self.errorText(errno))
        }
        return Int(info.st_size)
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    /// - Complexity: O(n).
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(StoreError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(file: path, offset: offset + done, operation: "read", message: Self.errorText(errno))
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads exactly `count` bytes at `offset`, or throws `corrupt` naming the offset.
    /// - Complexity: O(n).
    func readExactly(count: Int, at offset: Int, what: String) throws(StoreError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try bytes.withUnsafeMutableBytes { buffer in
            capture { () throws(StoreError) in try read(at: offset, into: buffer) }
        }.get()
        guard got == count else {
            throw .corrupt(file: path, offset: offset, message: "\(what) needs \(count) bytes, the file ends after \(got)")
        }
        return bytes
    }

    /// Reads the whole file from `offset`.
    /// - Complexity: O(n).
    func readAll(from offset: Int = 0) throws(StoreError) -> [UInt8] {
        let end = try size()
        guard end > offset else { return [] }
        var bytes = [UInt8](repeating: 0, count: end - offset)
        let got = try bytes.withUnsafeMutableBytes { buffer in
            capture { () throws(StoreError) in try read(at: offset, into: buffer) }
        }.get()
        if got < bytes.count { bytes.removeLast(bytes.count - got) }
        return bytes
    }

    private func injected(_ operation: String, offset: Int?) throws(StoreError) -> Int32? {
        guard let hook = faultHook, let code = hook(operation, path) else { return nil }
        return code
    }

    /// Writes all of `bytes` at `offset`.
    /// - Complexity: O(n).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StoreError) {
        var count = bytes.count
        let fault = try injected("write", offset: offset)
        if fault != nil { count /= 2 }
        var done = 0
        while done < count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(file: path, offset: offset + done, operation: "write", message: Self.errorText(errno))
            }
            done += n
        }
        if let fault {
            throw .io(file: path, offset: offset + done, operation: "write", message: Self.errorText(fault))
        }
    }

    /// - Complexity: O(n).
    func write(_ bytes: [UInt8], at offset: Int) throws(StoreError) {
        try bytes.withUnsafeBytes { raw in capture { () throws(StoreError) in try write(raw, at: offset) } }.get()
    }

    /// Makes the file's data durable.
    /// - Complexity: O(dirty pages).
    func sync() throws(StoreError) {
        if let fault = try injected("fsync", offset: nil) {
            throw .io(file: path, offset: nil, operation: "fsync", message: Self.errorText(fault))
        }
        while fsync(descriptor) != 0 {
            if errno == EINTR { continue }
            throw .io(file: path, offset: nil, operation: "fsync", message: Self.errorText(errno))
        }
    }

    /// Cuts the file to `length` bytes.
    /// - Complexity: O(1).
    func truncate(to length: Int) throws(StoreError) {
        if let fault = try injected("truncate", offset: length) {
            throw .io(file: path, offset: length, operation: "truncate", message: Self.errorText(fault))
        }
        guard ftruncate(descriptor, off_t(length)) == 0 else {
            throw .io(file: path, offset: length, operation: "truncate", message: Self.errorText(errno))
        }
    }

    /// Releases an `flock`.
    /// - Complexity: O(1).
    func unlock() { _ = flock(descriptor, LOCK_UN) }

    /// Takes an exclusive, non-blocking `flock`; false when another open file holds it.
    /// - Complexity: O(1).
    func tryLock() throws(StoreError) -> Bool {
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
        let code = errno
        if code == EWOULDBLOCK { return false }
        throw .io(file: path, offset: nil, operation: "flock", message: Self.errorText(code))
    }
}

/// Directory and whole-file operations.
enum StoreFS {
    /// - Complexity: O(1).
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Creates a directory (and its parents).
    /// - Complexity: O(depth).
    static func makeDirectory(_ path: String) throws(StoreError) {
        if exists(path) { return }
        let parent = parentOf(path)
        if !parent.isEmpty, parent != path { try makeDirectory(parent) }
        if mkdir(path, 0o755) != 0, errno != EEXIST {
            throw .io(file: path, offset: nil, operation: "mkdir", message: StoreFile.errorText(errno))
        }
    }

    static func parentOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Names in a directory, sorted by byte order (never in the file system's order).
    /// - Complexity: O(n log n).
    static func list(_ path: String) throws(StoreError) -> [String] {
        guard let dir = opendir(path) else {
            let code = errno
            if code == ENOENT { throw .notFound(path) }
            throw .io(file: path, offset: nil, operation: "opendir", message: StoreFile.errorText(code))
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Makes a directory's entries (a rename, a new file) durable.
    /// - Complexity: O(1).
    static func syncDirectory(_ path: String, hook: FaultHook? = nil) throws(StoreError) {
        if let code = hook?("fsync", path) {
            throw .io(file: path, offset: nil, operation: "fsync", message: StoreFile.errorText(code))
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw .io(file: path, offset: nil, operation: "open", message: StoreFile.errorText(errno))
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw .io(file: path, offset: nil, operation: "fsync", message: StoreFile.errorText(errno))
        }
    }

    /// Replaces `path` with `bytes` atomically: temporary file, fsync, rename, fsync directory.
    /// A crash leaves either the old or the new file, never a mixture.
    /// - Complexity: O(n).
    static func writeAtomically(_ bytes: [UInt8], to path: String, hook: FaultHook? = nil) throws(StoreError) {
        let temporary = path + ".tmp"
        do {
            let file = try StoreFile.openForWriting(temporary, create: true)
            file.faultHook = hook
            try file.truncate(to: 0)
            try file.write(bytes, at: 0)
            try file.sync()
        }
        if let code = hook?("rename", path) {
            unlink(temporary)
            throw .io(file: path, offset: nil, operation: "rename", message: StoreFile.errorText(code))
        }
        guard StoreFS.rename(temporary, path) else {
            throw .io(file: path, offset: nil, operation: "rename", message: StoreFile.errorText(errno))
        }
        try syncDirectory(parentOf(path), hook: hook)
    }

    /// - Complexity: O(1).
    static func currentPID() -> Int32 { getpid() }
}

extension StoreFS {
    static func rename(_ from: String, _ to: String) -> Bool {
        #if canImport(Glibc)
        Glibc.rename(from, to) == 0
        #else
        Darwin.rename(from, to) == 0
        #endif
    }

    static func remove(_ path: String) -> Bool { unlink(path) == 0 }

    static func lastError() -> Int32 { errno }
}
