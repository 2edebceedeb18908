import Dispatch

// The zero-skipping product: the same C as `GEMM.multiply`, bit for bit, doing only the
// multiply-adds whose op(A) factor is not zero. After a ReLU about half of the backpropagated δ
// are exact zeros, so a hidden layer's weight gradient δᵀ·a can skip about half of its terms.

extension GEMM {
    /// `C (m×n) = scale·([C +] op(A)·op(B))`, skipping every term whose op(A) factor is ±0;
    /// bit-identical to `multiply` followed by `C[i,j] ← C[i,j]·scale` (no scaling when
    /// `scale == 1`), for any inputs and any thread count.
    ///
    /// **Why skipping is exact.** The contract's chain for C[i,j] is
    /// `acc_{p+1} = fma(op(A)[i,p], op(B)[p,j], acc_p)`. A skipped step has op(A)[i,p] = ±0; when
    /// op(B)[p,j] is finite its product is an exact ±0, and `fma` then returns `acc_p` unchanged,
    /// except in one case: `acc_p = −0` and a product of +0 give +0. So
    /// - rows p of op(B) holding an infinity or NaN are never skipped (0·∞ is NaN);
    /// - the chains can differ only in the sign of a zero: once the dense chain has turned −0 into
    ///   +0, the first nonzero product gives both chains the same value, `round(x·y)`, and an exact
    ///   zero product leaves the skipping chain's −0 or +0 against the dense chain's +0. The
    ///   skipping chain's result therefore equals the dense one unless it is −0, and a result of −0
    ///   (or a NaN, for the payload's sake) is recomputed with the full chain over all k.
    /// Each element's chain still runs in ascending p on one thread; rows are split over threads.
    ///
    /// **Implementation.** op(A) is copied row-major when transposed; a bit mask per output row
    /// marks the p whose op(A) factor is nonzero (or whose op(B) row is not finite). C is computed
    /// in column blocks of up to 64: the block of op(B) is packed contiguously (`packPanelsB`,
    /// zero-padded; in place, a power-of-two row stride put all its rows in two cache sets), then
    /// every row runs over it with up to eight `SIMD8<Float>` accumulators, doing for each set bit
    /// (ascending, by trailing-zero count) one broadcast of op(A)[i,p] and one FMA per accumulator.
    /// Each FMA loads its op(B) vector (no register reuse across rows, unlike the dense 6×16
    /// kernel), so the block must stay in L1: with k = 64 (a weight gradient, k = B) it is 16 KB
    /// and skipping half the terms measured 1.2× faster than the dense kernel; with k = 256…512
    /// (a forward or input-gradient product) it is not, and the dense kernel wins. When more than
    /// `maximumDensity` of op(A) is nonzero, or n < 16, the dense `multiply` runs instead (same
    /// bits). Use it where k is small.
    /// - Complexity: O(m·k + k·n) to build the masks and check op(B), plus O(nnz(op(A))·n) for the
    ///   products (O(m·n·k) in the dense fallback); O(m·k + k·64) scratch floats, allocated per call.
    public static func multiplySkippingZeros(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool = false, scale: Float = 1,
        threads: Int = 1
    ) {
        let small = m * n * k < ZeroSkipping.minimumWork
        multiplySkippingZeros(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
                              b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc,
                              accumulate: accumulate, scale: scale, threads: threads,
                              maximumDensity: small ? -1 : ZeroSkipping.maximumDensity)
    }

    /// Tuning of the zero-skipping product; none of it changes a bit.
    enum ZeroSkipping {
        /// Above this fraction of nonzero op(A) entries the dense kernel is faster (at k = 64 the
        /// skipping kernel does about 0.62 of the dense kernel's FMAs per second).
        static let maximumDensity = 0.6
        /// Below this many multiply-adds (m·n·k) the dense kernel runs: the masks, copies and
        /// allocations would cost more than the skipped terms save.
        static let minimumWork = 1 << 16
        /// Accumulator vectors per row block (8 × 8 = 64 columns; 96 measured slower: the block of
        /// op(B) then no longer stays in L1 beside the streamed rows of op(A) and C).
        static let maximumVectors = 8
    }

    /// `multiplySkippingZeros` with an explicit density limit and no size limit: the test hook
    /// that forces the skipping path (`maximumDensity: 1`) or the dense one (`-1`).
    /// - Complexity: as `multiplySkippingZeros`.
    static func multiplySkippingZeros(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, scale: Float, threads: Int, maximumDensity: Double
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "GEMM: negative dimension")
        precondition(lda >= (transposeA ? m : k) && ldb >= (transposeB ? k : n) && ldc >= n,
                     "GEMM: leading dimension shorter than a row")
        if m == 0 || n == 0 { return }
        if maximumDensity < 0 {
            multiply(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
                     b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc,
                     accumulate: accumulate, scale: scale, threads: threads)
            return
        }
        let words = (k + 63) / 64
        let masks = UnsafeMutablePointer<UInt64>.allocate(capacity: max(m * words, 1))
        defer { masks.deallocate() }
        // The kernel reads op(A) by rows; a transposed A is copied to row-major first (reading a
        // column of A in place would touch k lines of one or two cache sets).
        let rowsA = transposeA ? UnsafeMutablePointer<Float>.allocate(capacity: max(m * k, 1)) : nil
        defer { rowsA?.deallocate() }
        if let rowsA { transposeInto(rowsA, m: m, k: k, a: a, lda: lda) }
        let (aRows, aLead) = rowsA.map { (UnsafePointer($0), k) } ?? (a, lda)
        let nonzero = buildMasks(m: m, k: k, a: aRows, lda: aLead, masks: masks, words: words)
        if k == 0 || n < 16 || Double(nonzero) > maximumDensity * Double(m * k) {
            multiply(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
                     b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc,
                     accumulate: accumulate, scale: scale, threads: threads)
            return
        }
        forceNonFiniteRows(n: n, k: k, b: b, ldb: ldb, transposeB: transposeB, m: m, masks: masks, words: words)
        let operands = Operands(a: aRows, lda: aLead, transposeA: false,
                                b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc)
        let shared = SkippingRows(masks: masks, words: words)
        let parts = max(1, min(threads, m))
        if parts == 1 {
            skippingRows(rows: 0..<m, n: n, k: k, operands, shared, accumulate: accumulate, scale: scale)
            return
        }
        // Strips of whole rows: every output element's chain runs on one thread.
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            skippingRows(rows: (m * part / parts)..<(m * (part + 1) / parts), n: n, k: k, operands, shared,
                         accumulate: accumulate, scale: scale)
        }
    }

    /// The row masks, shared read-only by the threads of one call.
    struct SkippingRows: @unchecked Sendable {
        var masks: UnsafeMutablePointer<UInt64>
        var words: Int
    }

    /// Writes Aᵀ (m × k, row-major) for A stored k × m with leading dimension `lda`, in 8×8 blocks.
    /// - Complexity: O(m·k).
    static func transposeInto(_ rows: UnsafeMutablePointer<Float>, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int) {
        let m8 = m / 8 * 8, k8 = k / 8 * 8
        var p = 0
        while p < k8 {
            var i = 0
            while i < m8 {
                transpose8x8(a + p * lda + i, ld: lda, to: rows + i * k + p, ldd: k)
                i += 8
            }
            for i in m8..<m { for q in p..<(p + 8) { rows[i * k + q] = a[q * lda + i] } }
            p += 8
        }
        for q in k8..<k { for i in 0..<m { rows[i * k + q] = a[q * lda + i] } }
    }

    /// Sets bit p of row i's mask (`words` UInt64s per row, p = 64·word + bit) when
    /// A[i,p] ≠ 0 (NaN included), A row-major; returns the number of set bits.
    /// - Complexity: O(m·k).
    static func buildMasks(m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                           masks: UnsafeMutablePointer<UInt64>, words: Int) -> Int {
        // Eight entries at a time, branch-free: lane j of a nonzero entry contributes 2^j.
        let weights = SIMD8<Int32>(1, 2, 4, 8, 16, 32, 64, 128)
        var count = 0
        for i in 0..<m {
            let row = a + i * lda, mask = masks + i * words
            for w in 0..<words {
                var word: UInt64 = 0
                let first = w * 64, length = min(64, k - first)
                var q = 0
                while q + 8 <= length {
                    let v = UnsafeRawPointer(row + first + q).loadUnaligned(as: SIMD8<Float>.self)
                    let bits = SIMD8<Int32>().replacing(with: weights, where: v .!= 0).wrappedSum()
                    word |= UInt64(truncatingIfNeeded: bits) &<< UInt64(q)
                    q += 8
                }
                while q < length {
                    word |= (row[first + q] != 0 ? 1 : 0) &<< UInt64(q)
                    q += 1
                }
                mask[w] = word
                count += word.nonzeroBitCount
            }
        }
        return count
    }

    /// Sets bit p in every row mask when row p of op(B) (columns 0..<n) holds an infinity or a
    /// NaN, so that such terms are never skipped. A value x is finite exactly when x·0 is not NaN.
    /// - Complexity: O(k·n).
    static func forceNonFiniteRows(n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                                   m: Int, masks: UnsafeMutablePointer<UInt64>, words: Int) {
        typealias V = SIMD8<Float>
        var forced: [Int] = []
        if transposeB {
            // op(B)[p,j] = b[j·ldb + p]: accumulate x·0 over j for every p at once.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: k) { probe in
                let t = probe.baseAddress!
                t.initialize(repeating: 0, count: k)
                let vectors = k / 8
                for j in 0..<n {
                    let row = UnsafeRawPointer(b + j * ldb)
                    let raw = UnsafeMutableRawPointer(t)
                    for v in 0..<vectors {
                        let x = row.loadUnaligned(fromByteOffset: v * 32, as: V.self)
                        let s = raw.loadUnaligned(fromByteOffset: v * 32, as: V.self)
                        raw.storeBytes(of: s + x * 0, toByteOffset: v * 32, as: V.self)
                    }
                    for p in (vectors * 8)..<k { t[p] += b[j * ldb + p] * 0 }
                }
                for p in 0..<k where t[p].isNaN { forced.append(p) }
            }
        } else {
            let vectors = n / 8
            for p in 0..<k {
                let row = UnsafeRawPointer(b + p * ldb)
                var s = V()
                for v in 0..<vectors { s += row.loadUnaligned(fromByteOffset: v * 32, as: V.self) * 0 }
                var tail: Float = 0
                for j in (vectors * 8)..<n { tail += b[p * ldb + j] * 0 }
                if tail.isNaN || s.sum().isNaN { forced.append(p) }
            }
        }
        for p in forced {
            let bit = UInt64(1) << UInt64(p & 63)
            for i in 0..<m { masks[i * words + (p >> 6)] |= bit }
        }
    }

    /// Rows `rows` of C on the calling thread, in column blocks of at most 64.
    /// - Complexity: O(nnz(op(A) rows)·n) plus the packing of op(B) when needed.
    static func skippingRows(rows: Range<Int>, n: Int, k: Int, _ o: Operands, _ shared: SkippingRows,
                             accumulate: Bool, scale: Float) {
        let maxVectors = ZeroSkipping.maximumVectors
        let totalVectors = (n + 7) / 8
        let blocks = (totalVectors + maxVectors - 1) / maxVectors
        // Pack buffer: one block of op(B), k × (up to 64 columns, whole 16-column panels).
        let packCount = max(k * maxVectors * 8, 1)
        let pack = UnsafeMutableRawPointer.allocate(byteCount: packCount * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: packCount)
        defer { pack.deallocate() }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * ZeroSkipping.maximumVectors * 8)
        defer { scratch.deallocate() }
        var firstVector = 0
        for block in 0..<blocks {
            // Blocks of nearly equal width (98 vectors become 13 blocks of 7 or 8).
            let vectors = totalVectors / blocks + (block < totalVectors % blocks ? 1 : 0)
            let j0 = firstVector * 8
            let width = min(vectors * 8, n - j0)
            firstVector += vectors
            packPanelsB(o, p0: 0, kb: k, j0: j0, nb: width, into: pack)
            let row = SkippingRow(aDepth: 1, b: UnsafePointer(pack), bDepth: nr, bPanel: nr * k, k: k,
                                  words: shared.words, width: width, accumulate: accumulate, scale: scale)
            for i in rows {
                row.run(vectors: vectors, a: o.a + i * o.lda, mask: shared.masks + i * shared.words,
                        c: o.c + i * o.cRow + j0, scratch: scratch)
            }
        }
    }

    /// One output row's block: the operands that do not change from row to row.
    struct SkippingRow {
        /// op(A)[i, p] is at `a + p·aDepth` for the row's `a`.
        var aDepth: Int
        /// op(B)[p, j0 + 8v + lane] is at `b + (v/2)·bPanel + (v%2)·8 + p·bDepth + lane`.
        var b: UnsafePointer<Float>
        var bDepth: Int
        var bPanel: Int
        var k: Int
        var words: Int
        /// Valid columns of the block (the last vector may be partial).
        var width: Int
        var accumulate: Bool
        var scale: Float

        /// Computes the block of one row: `c` holds the chain's start (when accumulating) and
        /// receives the result. `scratch` holds 2 × 64 floats.
        func run(vectors: Int, a: UnsafePointer<Float>, mask: UnsafePointer<UInt64>, c: UnsafeMutablePointer<Float>,
                 scratch: UnsafeMutablePointer<Float>) {
            switch vectors {
            case 8: GEMM.skippingKernel(Vectors8.self, self, a: a, mask: mask, c: c, scratch: scratch)
            case 7: GEMM.skippingKernel(Vectors7.self, self, a: a, mask: mask, c: c, scratch: scratch)
            case 6: GEMM.skippingKernel(Vectors6.self, self, a: a, mask: mask, c: c, scratch: scratch)
            case 5: GEMM.skippingKernel(Vectors5.self, self, a: a, mask: mask, c: c, scratch: scratch)
            case 4: GEMM.skippingKernel(Vectors4.self, self, a: a, mask: mask, c: c, scratch: scratch)
            case 3: GEMM.skippingKernel(Vectors3.self, self, a: a, mask: mask, c: c, scratch: scratch)
            case 2: GEMM.skippingKernel(Vectors2.self, self, a: a, mask: mask, c: c, scratch: scratch)
            default: GEMM.skippingKernel(Vectors1.self, self, a: a, mask: mask, c: c, scratch: scratch)
            }
        }

        /// The slow end of a row block: recomputes suspect results (−0, NaN) with the full chain
        /// over all k, then scales and stores the block's valid columns.
        /// - Complexity: O(width + suspects·k).
        func finish(tile: UnsafeMutablePointer<Float>, start: UnsafePointer<Float>, a: UnsafePointer<Float>,
                    c: UnsafeMutablePointer<Float>) {
            for j in 0..<width where tile[j].bitPattern == 0x8000_0000 || tile[j].isNaN {
                var acc: Float = accumulate ? start[j] : 0
                let column = b + (j / 16) * bPanel + j % 16
                for p in 0..<k { acc.addProduct(a[p * aDepth], column[p * bDepth]) }
                tile[j] = acc
            }
            for j in 0..<width { c[j] = scale != 1 ? tile[j] * scale : tile[j] }
        }
    }

    /// The row kernel for a constant number of accumulator vectors (the others are dead code,
    /// the function being specialized for each `Count`): one row block of `SkippingRow.run`.
    /// - Complexity: O(nnz(mask)·vectors).
    static func skippingKernel<Count: VectorCount>(
        _: Count.Type, _ row: SkippingRow, a: UnsafePointer<Float>, mask: UnsafePointer<UInt64>,
        c: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD8<Float>
        let vectors = Count.value
        // A partial last vector goes through `start`/`tile` so that no lane past the block is touched.
        let full = row.width == vectors * 8
        let tile = scratch, start = scratch + ZeroSkipping.maximumVectors * 8
        let startRaw: UnsafeRawPointer
        if full {
            startRaw = UnsafeRawPointer(c)
        } else {
            start.update(repeating: 0, count: vectors * 8)
            if row.accumulate { start.update(from: c, count: row.width) }
            startRaw = UnsafeRawPointer(start)
        }
        var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V(), c6 = V(), c7 = V()
        if row.accumulate {
            c0 = startRaw.loadUnaligned(as: V.self)
            if vectors > 1 { c1 = startRaw.loadUnaligned(fromByteOffset: 32, as: V.self) }
            if vectors > 2 { c2 = startRaw.loadUnaligned(fromByteOffset: 64, as: V.self) }
            if vectors > 3 { c3 = startRaw.loadUnaligned(fromByteOffset: 96, as: V.self) }
            if vectors > 4 { c4 = startRaw.loadUnaligned(fromByteOffset: 128, as: V.self) }
            if vectors > 5 { c5 = startRaw.loadUnaligned(fromByteOffset: 160, as: V.self) }
            if vectors > 6 { c6 = startRaw.loadUnaligned(fromByteOffset: 192, as: V.self) }
            if vectors > 7 { c7 = startRaw.loadUnaligned(fromByteOffset: 224, as: V.self) }
        }
        let panel = row.bPanel * 4, depth = row.bDepth * 4, aDepth = row.aDepth
        let base = UnsafeRawPointer(row.b)
        for w in 0..<row.words {
            var bits = mask[w]
            while bits != 0 {
                let p = w &* 64 &+ bits.trailingZeroBitCount
                bits &= bits &- 1
                let x = V(repeating: a[p &* aDepth])
                let r = base + p &* depth
                c0.addProduct(x, r.loadUnaligned(as: V.self))
                if vectors > 1 { c1.addProduct(x, r.loadUnaligned(fromByteOffset: 32, as: V.self)) }
                if vectors > 2 { c2.addProduct(x, r.loadUnaligned(fromByteOffset: panel, as: V.self)) }
                if vectors > 3 { c3.addProduct(x, r.loadUnaligned(fromByteOffset: panel + 32, as: V.self)) }
                if vectors > 4 { c4.addProduct(x, r.loadUnaligned(fromByteOffset: 2 * panel, as: V.self)) }
                if vectors > 5 { c5.addProduct(x, r.loadUnaligned(fromByteOffset: 2 * panel + 32, as: V.self)) }
                if vectors > 6 { c6.addProduct(x, r.loadUnaligned(fromByteOffset: 3 * panel, as: V.self)) }
                if vectors > 7 { c7.addProduct(x, r.loadUnaligned(fromByteOffset: 3 * panel + 32, as: V.self)) }
            }
        }
        // Results that may differ from the dense chain: −0 (and NaN, for its payload).
        let negativeZero = SIMD8<UInt32>(repeating: 0x8000_0000)
        var bad = unsafeBitCast(c0, to: SIMD8<UInt32>.self) .== negativeZero .| c0 .!= c0
        if vectors > 1 { bad .|= unsafeBitCast(c1, to: SIMD8<UInt32>.self) .== negativeZero .| c1 .!= c1 }
        if vectors > 2 { bad .|= unsafeBitCast(c2, to: SIMD8<UInt32>.self) .== negativeZero .| c2 .!= c2 }
        if vectors > 3 { bad .|= unsafeBitCast(c3, to: SIMD8<UInt32>.self) .== negativeZero .| c3 .!= c3 }
        if vectors > 4 { bad .|= unsafeBitCast(c4, to: SIMD8<UInt32>.self) .== negativeZero .| c4 .!= c4 }
        if vectors > 5 { bad .|= unsafeBitCast(c5, to: SIMD8<UInt32>.self) .== negativeZero .| c5 .!= c5 }
        if vectors > 6 { bad .|= unsafeBitCast(c6, to: SIMD8<UInt32>.self) .== negativeZero .| c6 .!= c6 }
        if vectors > 7 { bad .|= unsafeBitCast(c7, to: SIMD8<UInt32>.self) .== negativeZero .| c7 .!= c7 }
        let direct = full && !any(bad)
        if direct && row.scale != 1 {
            let s = V(repeating: row.scale)
            c0 *= s; c1 *= s; c2 *= s; c3 *= s; c4 *= s; c5 *= s
            c6 *= s; c7 *= s
        }
        let out = UnsafeMutableRawPointer(direct ? c : tile)
        out.storeBytes(of: c0, as: V.self)
        if vectors > 1 { out.storeBytes(of: c1, toByteOffset: 32, as: V.self) }
        if vectors > 2 { out.storeBytes(of: c2, toByteOffset: 64, as: V.self) }
        if vectors > 3 { out.storeBytes(of: c3, toByteOffset: 96, as: V.self) }
        if vectors > 4 { out.storeBytes(of: c4, toByteOffset: 128, as: V.self) }
        if vectors > 5 { out.storeBytes(of: c5, toByteOffset: 160, as: V.self) }
        if vectors > 6 { out.storeBytes(of: c6, toByteOffset: 192, as: V.self) }
        if vectors > 7 { out.storeBytes(of: c7, toByteOffset: 224, as: V.self) }
        if !direct { row.finish(tile: tile, start: UnsafePointer(full ? c : start), a: a, c: c) }
    }
}

/// A number of accumulator vectors known at compile time, so that each specialization of
/// `GEMM.skippingKernel` keeps exactly its accumulators in registers.
protocol VectorCount { static var value: Int { get } }
enum Vectors1: VectorCount { static var value: Int { 1 } }
enum Vectors2: VectorCount { static var value: Int { 2 } }
enum Vectors3: VectorCount { static var value: Int { 3 } }
enum Vectors4: VectorCount { static var value: Int { 4 } }
enum Vectors5: VectorCount { static var value: Int { 5 } }
enum Vectors6: VectorCount { static var value: Int { 6 } }
enum Vectors7: VectorCount { static var value: Int { 7 } }
enum Vectors8: VectorCount { static var value: Int { 8 } }
