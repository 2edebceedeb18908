#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// Two P-float buffers an observer lends the trainer for one step's gradient and update
/// (`StepObserver.buffersForNextStep`), filled with streaming stores
/// (`OptimizerUpdate.applyHandingOver`).
///
/// Each is an anonymous memory mapping: page-aligned (streaming stores want 32 bytes), zero, and
/// resident only once written — a recorder can keep many in reserve for its bursts and pay
/// memory only for those training actually reaches. Unmapped with the object.
package final class LentStepBuffers: @unchecked Sendable {
    /// P floats each.
    package let gradient: UnsafeMutableBufferPointer<Float>
    package let update: UnsafeMutableBufferPointer<Float>

    /// - Complexity: O(1) (the pages are mapped, not touched).
    package init(count: Int) {
        gradient = Self.map(count: max(count, 1))
        update = Self.map(count: max(count, 1))
    }

    deinit {
        munmap(gradient.baseAddress!, gradient.count * MemoryLayout<Float>.stride)
        munmap(update.baseAddress!, update.count * MemoryLayout<Float>.stride)
    }

    private static func map(count: Int) -> UnsafeMutableBufferPointer<Float> {
        let bytes = count * MemoryLayout<Float>.stride
        #if canImport(Darwin)
        let flags = MAP_PRIVATE | MAP_ANON
        #else
        let flags = MAP_PRIVATE | MAP_ANONYMOUS
        #endif
        guard let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, flags, -1, 0), raw != MAP_FAILED else {
            fatalError("could not map \(bytes) bytes for a step's hand-off buffers (errno \(errno))")
        }
        return UnsafeMutableBufferPointer(start: raw.bindMemory(to: Float.self, capacity: count), count: count)
    }

    /// P.
    package var count: Int { gradient.count }
}
