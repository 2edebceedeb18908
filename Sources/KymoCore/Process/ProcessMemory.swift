#if canImport(Glibc)
import Glibc
#endif

/// Process-wide allocator settings for Kymograph's executables.
public enum ProcessMemory {
    /// glibc serves blocks above its mmap threshold (128 KiB at first) with fresh mappings and
    /// unmaps them when freed, so a buffer of that size allocated per call — a GEMM's packing
    /// scratch, a decoded chunk, a step's temporaries — costs page faults on fresh zero pages every
    /// time (≈ 4 % of a seed-scale training step, a third of a query). With the threshold at its
    /// 32 MiB maximum and no trimming, freed blocks are reused instead. Call once at process
    /// start; other platforms: nothing to do.
    /// - Complexity: O(1).
    public static func keepFreedBlocks() {
        #if canImport(Glibc)
        // mallopt(3) is not in the Glibc module map (malloc.h); look it up. Parameters from
        // malloc.h: M_TRIM_THRESHOLD −1, M_MMAP_THRESHOLD −3.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(-3, 32 << 20)
        _ = mallopt(-1, Int32.max)
        #endif
    }
}
