import Dispatch

// The zero-skipping product: the same C as `GEMM.multiply`, bit for bit, doing only the
// multiply-adds whose op(A) factor is not zero. After a ReLU about half of the activations and of
// the backpropagated δ are exact zeros, so a hidden layer's forward product a·Wᵀ, its weight
// gradient δᵀ·a and its input gradient δ·W can skip about half of their terms.

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
    /// in column blocks of up to 64 and depth blocks of 64 (one mask word): each block of op(B) is
    /// packed contiguously (`packPanelsB`, zero-padded; read in place, a power-of-two row stride
    /// put all its rows in two cache sets), 16 KB that stay in L1 while every row runs over them
    /// with up to eight `SIMD8<Float>` accumulators, doing for each set bit (ascending, by
    /// trailing-zero count) one broadcast of op(A)[i,p] and one FMA per accumulator; the chains
    /// continue through C from one depth block to the next, exactly as the dense kernel's do.
    /// Each FMA loads its op(B) vector (no reuse across rows, unlike the dense 6×16 kernel), so at
    /// half zeros it runs 1.2–1.35× faster than the dense kernel, not 2×, and above
    /// `maximumDensity` nonzeros (or for n < 16, or under 2¹⁶ multiply-adds) the dense `multiply`
    /// runs instead (same bits).
    /// - Complexity: O(m·k + k·n) to build the masks and check op(B), plus O(nnz(op(A))·n) for the
    ///   products (O(m·n·k) in the dense fallback); O(m·k + m·n) scratch floats, allocated per call.
    public static func multiplySkippingZeros(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool = false, scale: Float = 1,
        threads: Int = 1
    ) {
        multiplySkippingZeros(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
                              b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc,
                              accumulate: accumulate, scale: scale, threads: threads, denseBlocking: .standard)
    }

    /// `multiplySkippingZeros` whose dense fallback runs with `denseBlocking` (a layer's forward
    /// product falls back to `Blocking.forward`, as `multiplyLayerForward` does). Same bits.
    /// - Complexity: as `multiplySkippingZeros`.
    static func multiplySkippingZeros(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool, scale: Float, threads: Int, denseBlocking: Blocking
    ) {
        let small = m * n * k < ZeroSkipping.minimumWork
        multiplySkippingZeros(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
                              b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc,
                              accumulate: accumulate, scale: scale, threads: threads,
                              maximumDensity: small ? -1 : ZeroSkipping.maximumDensity, denseBlocking: denseBlocking)
    }

    /// Tuning of the zero-skipping product; none of it changes a bit.
    enum ZeroSkipping {
        /// Above this fraction of nonzero op(A) entries the dense kernel is faster (the skipping
        /// kernel does about two thirds of the dense kernel's FMAs per second).
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
        accumulate: Bool, scale: Float, threads: Int, maximumDensity: Double,
        denseBlocking: Blocking = .standard
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "GEMM: negative dimension")
        precondition(lda >= (transposeA ? m : k) && ldb >= (transposeB ? k : n) && ldc >= n,
                     "GEMM: leading dimension shorter than a row")
        if m == 0 || n == 0 { return }
        // Narrow outputs (the 10-class layer) never skip: decide before building any mask.
        if maximumDensity < 0 || n < 16 || k == 0 {
            multiply(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
                     b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc,
                     accumulate: accumulate, scale: scale, threads: threads, blocking: denseBlocking)
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
        if Double(nonzero) > maximumDensity * Double(m * k) {
            multiply(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
                     b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc,
                     accumulate: accumulate, scale: scale, threads: threads, blocking: denseBlocking)
            return
        }
        forceNonFiniteRows(n: n, k: k, b: b, ldb: ldb, transposeB: transposeB, m: m, masks: masks, words: words)
        let operands = Operands(a: aRows, lda: aLead, transposeA: false,
                                b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc)
        // C is overwritten after the first depth block; a result recomputed at the end needs its start.
        let starts = accumulate && words > 1 ? UnsafeMutablePointer<Float>.allocate(capacity: m * n) : nil
        defer { starts?.deallocate() }
        if let starts { for i in 0..<m { (starts + i * n).update(from: c + i * ldc, count: n) } }
        let shared = SkippingRows(masks: masks, words: words, starts: starts.map { UnsafePointer($0) })
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

    /// The row masks (and, when an accumulating chain spans several depth blocks, a copy of C's
    /// starting values, m × n), shared read-only by the threads of one call.
    struct SkippingRows: @unchecked Sendable {
        var masks: UnsafeMutablePointer<UInt64>
        var words: Int
        var starts: UnsafePointer<Float>?
    }

    /// Writes Aᵀ (m × k, row-major, rows `ldRows` apart; `k` unless given) for A stored k × m with
    /// leading dimension `lda`, in 8×8 blocks.
    /// - Complexity: O(m·k).
    static func transposeInto(_ rows: UnsafeMutablePointer<Float>, ldRows: Int? = nil, m: Int, k: Int,
                              a: UnsafePointer<Float>, lda: Int) {
        let ld = ldRows ?? k
        let m8 = m / 8 * 8, k8 = k / 8 * 8
        var p = 0
        while p < k8 {
            var i = 0
            while i < m8 {
                transpose8x8(a + p * lda + i, ld: lda, to: rows + i * ld + p, ldd: ld)
                i += 8
            }
            for i in m8..<m { for q in p..<(p + 8) { rows[i * ld + q] = a[q * lda + i] } }
            p += 8
        }
        for q in k8..<k { for i in 0..<m { rows[i * ld + q] = a[q * lda + i] } }
    }

    /// Sets bit p of row i's mask (`words` UInt64s per row, p = 64·word + bit) when
    /// A[i,p] ≠ 0 (NaN included), A row-major; returns the number of set bits.
    /// - Complexity: O(m·k).
    static func buildMasks(m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                           masks: UnsafeMutablePointer<UInt64>, words: Int) -> Int {
        // Eight entries at a time, branch-free: lane j of a nonzero entry contributes 2^j; 32 at a
        // time, vector t's lanes contribute 2^(8t+j), so one horizontal sum serves four vectors.
        let weights = SIMD8<Int32>(1, 2, 4, 8, 16, 32, 64, 128)
        let weights32 = SIMD8<UInt32>(1, 2, 4, 8, 16, 32, 64, 128)
        var count = 0
        for i in 0..<m {
            let row = a + i * lda, mask = masks + i * words
            for w in 0..<words {
                var word: UInt64 = 0
                let first = w * 64, length = min(64, k - first)
                var q = 0
                while q + 32 <= length {
                    let r = UnsafeRawPointer(row + first + q)
                    var bits = SIMD8<UInt32>()
                    for t in 0..<4 {
                        let v = r.loadUnaligned(fromByteOffset: 32 * t, as: SIMD8<Float>.self)
                        bits |= SIMD8<UInt32>().replacing(with: weights32 &<< UInt32(8 * t), where: v .!= 0)
                    }
                    word |= UInt64(bits.wrappedSum()) &<< UInt64(q)
                    q += 32
                }
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

    /// Rows `rows` of C on the calling thread, in column blocks of at most 64 and depth blocks
    /// of 64 (one mask word): each packed block of op(B) is at most 16 KB and stays in L1 while
    /// all rows run over it; the chains continue through C from one depth block to the next.
    /// - Complexity: O(nnz(op(A) rows)·n) plus the packing of op(B).
    static func skippingRows(rows: Range<Int>, n: Int, k: Int, _ o: Operands, _ shared: SkippingRows,
                             accumulate: Bool, scale: Float) {
        let maxVectors = ZeroSkipping.maximumVectors
        let totalVectors = (n + 7) / 8
        let blocks = (totalVectors + maxVectors - 1) / maxVectors
        // Pack buffer: one block of op(B), 64 depths × (up to 64 columns, whole 16-column panels).
        let packCount = 64 * maxVectors * 8
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
            for word in 0..<shared.words {
                let p0 = word * 64, depth = min(64, k - p0)
                packPanelsB(o, p0: p0, kb: depth, j0: j0, nb: width, into: pack)
                let row = SkippingRow(b: UnsafePointer(pack), bPanel: nr * depth, width: width,
                                      loadC: accumulate || word > 0, final: word == shared.words - 1,
                                      scale: scale, operands: o, k: k, j0: j0, accumulate: accumulate,
                                      starts: shared.starts, startsLead: n)
                for i in rows {
                    row.run(vectors: vectors, i: i, a: o.a + i * o.lda + p0, mask: shared.masks + i * shared.words + word,
                            c: o.c + i * o.cRow + j0, scratch: scratch)
                }
            }
        }
    }

    /// One output row's block at one depth block: what does not change from row to row.
    struct SkippingRow {
        /// op(B)[p0 + p, j0 + 8v + lane] is at `b + (v/2)·bPanel + (v%2)·8 + 16p + lane` (packed).
        var b: UnsafePointer<Float>
        var bPanel: Int
        /// Valid columns of the block (the last vector may be partial).
        var width: Int
        /// Whether the chains start from C (accumulating, or continuing an earlier depth block).
        var loadC: Bool
        /// The last depth block: check for suspect results, scale, store.
        var final: Bool
        var scale: Float
        // For recomputing a suspect result over the whole chain:
        var operands: Operands
        var k: Int
        var j0: Int
        var accumulate: Bool
        /// C's starting values when C no longer holds them (`startsLead` floats per row).
        var starts: UnsafePointer<Float>?
        var startsLead: Int

        /// Runs the chains of row `i` over this depth block: `a` is op(A)[i, p0…], `mask` its bits
        /// of this block; `c` holds the chains' values so far (when `loadC`) and receives them.
        /// `scratch` holds 2 × 64 floats.
        func run(vectors: Int, i: Int, a: UnsafePointer<Float>, mask: UnsafePointer<UInt64>,
                 c: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
            switch vectors {
            case 8: GEMM.skippingKernel(Vectors8.self, self, i: i, a: a, mask: mask, c: c, scratch: scratch)
            case 7: GEMM.skippingKernel(Vectors7.self, self, i: i, a: a, mask: mask, c: c, scratch: scratch)
            case 6: GEMM.skippingKernel(Vectors6.self, self, i: i, a: a, mask: mask, c: c, scratch: scratch)
            case 5: GEMM.skippingKernel(Vectors5.self, self, i: i, a: a, mask: mask, c: c, scratch: scratch)
            case 4: GEMM.skippingKernel(Vectors4.self, self, i: i, a: a, mask: mask, c: c, scratch: scratch)
            case 3: GEMM.skippingKernel(Vectors3.self, self, i: i, a: a, mask: mask, c: c, scratch: scratch)
            case 2: GEMM.skippingKernel(Vectors2.self, self, i: i, a: a, mask: mask, c: c, scratch: scratch)
            default: GEMM.skippingKernel(Vectors1.self, self, i: i, a: a, mask: mask, c: c, scratch: scratch)
            }
        }

        /// The slow end of a row's last block: recomputes suspect results (−0, NaN) with the
        /// contract's full chain over all k, then scales and stores the block's valid columns.
        /// `start` holds the row block's starting values when C was read only once.
        /// - Complexity: O(width + suspects·k).
        func finish(tile: UnsafeMutablePointer<Float>, i: Int, start: UnsafePointer<Float>,
                    c: UnsafeMutablePointer<Float>) {
            let o = operands
            let aRow = o.a + i * o.lda
            for j in 0..<width where tile[j].bitPattern == 0x8000_0000 || tile[j].isNaN {
                var acc: Float = 0
                if accumulate { acc = starts.map { $0[i * startsLead + j0 + j] } ?? start[j] }
                let column = j0 + j
                for p in 0..<k {
                    acc.addProduct(aRow[p], o.transposeB ? o.b[column * o.ldb + p] : o.b[p * o.ldb + column])
                }
                tile[j] = acc
            }
            for j in 0..<width { c[j] = scale != 1 ? tile[j] * scale : tile[j] }
        }
    }

    /// The row kernel for a constant number of accumulator vectors (the others are dead code,
    /// the function being specialized for each `Count`): one row block of `SkippingRow.run`.
    /// - Complexity: O(nnz(mask)·vectors).
    static func skippingKernel<Count: VectorCount>(
        _: Count.Type, _ row: SkippingRow, i: Int, a: UnsafePointer<Float>, mask: UnsafePointer<UInt64>,
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
            if row.loadC { start.update(from: c, count: row.width) }
            startRaw = UnsafeRawPointer(start)
        }
        var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V(), c6 = V(), c7 = V()
        if row.loadC {
            c0 = startRaw.loadUnaligned(as: V.self)
            if vectors > 1 { c1 = startRaw.loadUnaligned(fromByteOffset: 32, as: V.self) }
            if vectors > 2 { c2 = startRaw.loadUnaligned(fromByteOffset: 64, as: V.self) }
            if vectors > 3 { c3 = startRaw.loadUnaligned(fromByteOffset: 96, as: V.self) }
            if vectors > 4 { c4 = startRaw.loadUnaligned(fromByteOffset: 128, as: V.self) }
            if vectors > 5 { c5 = startRaw.loadUnaligned(fromByteOffset: 160, as: V.self) }
            if vectors > 6 { c6 = startRaw.loadUnaligned(fromByteOffset: 192, as: V.self) }
            if vectors > 7 { c7 = startRaw.loadUnaligned(fromByteOffset: 224, as: V.self) }
        }
        let panel = row.bPanel * 4
        let base = UnsafeRawPointer(row.b)
        do {
            var bits = mask.pointee
            while bits != 0 {
                let p = bits.trailingZeroBitCount
                bits &= bits &- 1
                let x = V(repeating: a[p])
                let r = base + p &* 64
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
        if !row.final {
            // The chains go on in the next depth block, from C.
            let out = UnsafeMutableRawPointer(full ? c : tile)
            out.storeBytes(of: c0, as: V.self)
            if vectors > 1 { out.storeBytes(of: c1, toByteOffset: 32, as: V.self) }
            if vectors > 2 { out.storeBytes(of: c2, toByteOffset: 64, as: V.self) }
            if vectors > 3 { out.storeBytes(of: c3, toByteOffset: 96, as: V.self) }
            if vectors > 4 { out.storeBytes(of: c4, toByteOffset: 128, as: V.self) }
            if vectors > 5 { out.storeBytes(of: c5, toByteOffset: 160, as: V.self) }
            if vectors > 6 { out.storeBytes(of: c6, toByteOffset: 192, as: V.self) }
            if vectors > 7 { out.storeBytes(of: c7, toByteOffset: 224, as: V.self) }
            if !full { c.update(from: tile, count: row.width) }
            return
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
        if !direct { row.finish(tile: tile, i: i, start: UnsafePointer(full ? c : start), c: c) }
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
