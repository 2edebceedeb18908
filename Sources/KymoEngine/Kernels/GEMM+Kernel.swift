// The blocked GEMM: operand descriptors, B packing, the 6×16 micro-kernel and the loop nest.

extension GEMM {
    /// The caller's operands for the duration of one `multiply` call; never stored beyond it.
    /// C's element (i, j) is at `c + i·cRow + j·cColumn` (row-major C: `cRow = ldc`, `cColumn = 1`;
    /// the swapped product Cᵀ = op(B)ᵀ·op(A)ᵀ writes with the two exchanged).
    struct Operands: @unchecked Sendable {
        var a: UnsafePointer<Float>, lda: Int, transposeA: Bool
        var b: UnsafePointer<Float>, ldb: Int, transposeB: Bool
        var c: UnsafeMutablePointer<Float>, cRow: Int, cColumn: Int

        init(a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
             b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
             c: UnsafeMutablePointer<Float>, ldc: Int) {
            self.a = a; self.lda = lda; self.transposeA = transposeA
            self.b = b; self.ldb = ldb; self.transposeB = transposeB
            self.c = c; cRow = ldc; cColumn = 1
        }

        /// The same product restricted to output rows from `row` and columns from `column`.
        func offset(row: Int, column: Int) -> Operands {
            var o = self
            o.a = transposeA ? a + row : a + row * lda
            o.b = transposeB ? b + column * ldb : b + column
            o.c = c + row * cRow + column * cColumn
            return o
        }

        /// Cᵀ = op(B)ᵀ·op(A)ᵀ: the same elements, each with the same chain, rows and columns exchanged.
        var swapped: Operands {
            var o = self
            (o.a, o.lda, o.transposeA) = (b, ldb, !transposeB)
            (o.b, o.ldb, o.transposeB) = (a, lda, !transposeA)
            (o.cRow, o.cColumn) = (cColumn, cRow)
            return o
        }
    }

    /// Runs the blocked product on the calling thread.
    /// - Complexity: O(m·n·k).
    static func serial(m: Int, n: Int, k: Int, _ o: Operands, accumulate: Bool, scale: Float, blocking: Blocking) {
        if k == 0 {
            for i in 0..<m {
                for j in 0..<n {
                    let index = i * o.cRow + j * o.cColumn
                    if !accumulate { o.c[index] = 0 } else if scale != 1 { o.c[index] *= scale }
                }
            }
            return
        }
        if n == tenColumnWidth && blocking.tenColumnKernel && o.cColumn == 1 {
            tenColumns(m: m, k: k, o, accumulate: accumulate, scale: scale)
            return
        }
        if takesSmallDepth(k: k, o, blocking: blocking) {
            smallDepth(m: m, n: n, k: k, o, accumulate: accumulate, scale: scale)
            return
        }
        // A narrow output (n = 10, say) wastes most of each 16-lane row; its transpose may not.
        // (Short row tiles cost nothing extra: the kernel is specialized for each height.)
        let columnsPadded = (n + nr - 1) / nr * nr, rowsAsColumnsPadded = (m + nr - 1) / nr * nr
        if blocking.transposedProduct ?? (5 * rowsAsColumnsPadded * n < 4 * columnsPadded * m) {
            transposedProduct(m: m, n: n, k: k, o, accumulate: accumulate, scale: scale, blocking: blocking)
        } else {
            blocked(m: m, n: n, k: k, o, accumulate: accumulate, scale: scale, blocking: blocking)
        }
    }

    /// Cᵀ = op(B)ᵀ·op(A)ᵀ into a row-major n × m scratch (so that every full tile is stored
    /// directly, not through `edgeTile`'s transposing buffer), then transposed into C in 8×8
    /// blocks; an accumulating chain starts from C transposed into the scratch. The copies are
    /// exact, so the bits are those of computing C itself.
    /// - Complexity: O(m·n·k), plus O(m·n) for the transposes; m·n scratch floats.
    static func transposedProduct(m: Int, n: Int, k: Int, _ o: Operands, accumulate: Bool, scale: Float,
                                  blocking: Blocking) {
        let t = UnsafeMutableRawPointer.allocate(byteCount: max(m * n, 1) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(m * n, 1))
        defer { t.deallocate() }
        if accumulate { transposeInto(t, m: n, k: m, a: o.c, lda: o.cRow) }
        var swapped = o.swapped
        (swapped.c, swapped.cRow, swapped.cColumn) = (t, m, 1)
        blocked(m: n, n: m, k: k, swapped, accumulate: accumulate, scale: scale, blocking: blocking)
        transposeInto(o.c, ldRows: o.cRow, m: m, k: n, a: t, lda: m)
    }

    /// The Goto loop nest: column blocks of `nc`, depth blocks of `kc`, row blocks of `mc`, then
    /// 16-column strips and 6-row micro-tiles. The last depth block stores `fl(acc·scale)`.
    /// - Complexity: O(m·n·k).
    static func blocked(m: Int, n: Int, k: Int, _ o: Operands, accumulate: Bool, scale: Float, blocking: Blocking) {
        let kc = min(blocking.kc, k)
        let mc = (min(blocking.mc, m) + mr - 1) / mr * mr
        let nc = (min(blocking.nc, n) + nr - 1) / nr * nr
        // op(B) is packed when transposed (the kernel needs 16 contiguous columns per depth) or
        // reused by more than two row panels; otherwise full panels are read in place. op(A) is
        // always read in place: six rows (or six adjacent columns of Aᵀ) stream well, and on
        // this machine packing them measured slower on every MLP shape.
        let packingB = o.transposeB || m > 2 * mr
        let countB = packingB ? nc * kc : nr * kc
        let packB = UnsafeMutableRawPointer.allocate(byteCount: countB * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: countB)
        defer { packB.deallocate() }
        let direct = o.cColumn == 1
        var jc = 0
        while jc < n {
            let nb = min(nc, n - jc)
            var pc = 0
            while pc < k {
                let kb = min(kc, k - pc)
                // The first k block starts each chain at 0 (or C); later blocks continue it from C.
                let loadC = accumulate || pc > 0
                let storeScale: Float = pc + kb == k ? scale : 1
                if packingB { packPanelsB(o, p0: pc, kb: kb, j0: jc, nb: nb, into: packB) }
                var ic = 0
                while ic < m {
                    let mb = min(mc, m - ic)
                    var jr = 0
                    while jr < nb {
                        let width = min(nr, nb - jr)
                        let pb: UnsafePointer<Float>, bDepth: Int
                        if packingB {
                            (pb, bDepth) = (UnsafePointer(packB + jr * kb), nr)
                        } else if width == nr {
                            (pb, bDepth) = (o.b + pc * o.ldb + jc + jr, o.ldb)
                        } else {
                            packPanelsB(o, p0: pc, kb: kb, j0: jc + jr, nb: width, into: packB)
                            (pb, bDepth) = (UnsafePointer(packB), nr)
                        }
                        // op(A)'s rows ic+ir.. start at `aBase + ir·aPanel`, read in place.
                        let aBase: UnsafePointer<Float>, aRow: Int, aDepth: Int, aPanel: Int
                        if o.transposeA {
                            (aBase, aRow, aDepth, aPanel) = (o.a + pc * o.lda + ic, 1, o.lda, mr)
                        } else {
                            (aBase, aRow, aDepth, aPanel) = (o.a + ic * o.lda + pc, o.lda, 1, mr * o.lda)
                        }
                        let cBase = o.c + ic * o.cRow + (jc + jr) * o.cColumn
                        // Full 6-row tiles, then a tail of at most two shorter tiles of nearly equal
                        // height (6+4 rows become 5+5): a tile under 5 rows has too few independent
                        // FMA chains to hide the FMA latency.
                        var fullPanels = mb / mr
                        var tail = (first: mb % mr, second: 0)
                        if tail.first > 0 && tail.first < 5 && fullPanels > 0 {
                            fullPanels -= 1
                            tail = ((mr + tail.first + 1) / 2, (mr + tail.first) / 2)
                        }
                        let tailRow = fullPanels * mr
                        if direct && width == nr {
                            strip(kc: kb, a: aBase, aRow: aRow, aDepth: aDepth, aPanel: aPanel,
                                  b: pb, bDepth: bDepth, c: cBase, ldc: o.cRow, loadC: loadC, scale: storeScale,
                                  panels: fullPanels)
                            if tail.first > 0 {
                                kernel(kc: kb, a: aBase + tailRow * aRow, aRow: aRow, aDepth: aDepth,
                                       b: pb, bDepth: bDepth, c: cBase + tailRow * o.cRow,
                                       ldc: o.cRow, loadC: loadC, scale: storeScale, height: tail.first)
                            }
                            if tail.second > 0 {
                                let row = tailRow + tail.first
                                kernel(kc: kb, a: aBase + row * aRow, aRow: aRow, aDepth: aDepth,
                                       b: pb, bDepth: bDepth, c: cBase + row * o.cRow,
                                       ldc: o.cRow, loadC: loadC, scale: storeScale, height: tail.second)
                            }
                        } else {
                            var row = 0
                            while row < mb {
                                let height = row < tailRow ? mr : (row == tailRow ? tail.first : tail.second)
                                edgeTile(kc: kb, a: aBase + row * aRow, aRow: aRow, aDepth: aDepth,
                                         b: pb, bDepth: bDepth, c: cBase + row * o.cRow,
                                         cRow: o.cRow, cColumn: o.cColumn, loadC: loadC, scale: storeScale,
                                         height: height, width: width)
                                row += height
                            }
                        }
                        jr += nr
                    }
                    ic += mc
                }
                pc += kb
            }
            jc += nb
        }
    }

    /// Packs depths `p0..<p0+kb`, columns `j0..<j0+nb` of op(B) as consecutive `nr`-column
    /// panels, each laid out `[p][c]`; columns past `nb` are zero.
    static func packPanelsB(_ o: Operands, p0: Int, kb: Int, j0: Int, nb: Int,
                            into dst: UnsafeMutablePointer<Float>) {
        var panel = 0
        while panel < nb {
            let cols = min(nr, nb - panel)
            let d = dst + panel * kb
            if o.transposeB {
                // op(B)[p, j] = b[j·ldb + p]: read each column of op(B) contiguously; full
                // 8×8 blocks go through SIMD transposes, the rest element by element.
                let src = o.b + (j0 + panel) * o.ldb + p0
                let fullGroups = cols / 8, fullDepth = kb / 8 * 8
                for g in 0..<fullGroups {
                    var p = 0
                    while p < fullDepth {
                        transpose8x8(src + g * 8 * o.ldb + p, ld: o.ldb, to: d + p * nr + g * 8, ldd: nr)
                        p += 8
                    }
                }
                for col in 0..<cols {
                    let s = src + col * o.ldb
                    let start = col < fullGroups * 8 ? fullDepth : 0
                    for p in start..<kb { d[p * nr + col] = s[p] }
                }
                if cols < nr {
                    for p in 0..<kb { for col in cols..<nr { d[p * nr + col] = 0 } }
                }
            } else {
                // op(B)[p, j] = b[p·ldb + j]: nr contiguous values per depth.
                if cols == nr {
                    for p in 0..<kb {
                        let s = UnsafeRawPointer(o.b + (p0 + p) * o.ldb + j0 + panel)
                        let dp = UnsafeMutableRawPointer(d + p * nr)
                        dp.storeBytes(of: s.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
                    }
                } else {
                    for p in 0..<kb {
                        let s = o.b + (p0 + p) * o.ldb + j0 + panel
                        let dp = d + p * nr
                        for col in 0..<cols { dp[col] = s[col] }
                        for col in cols..<nr { dp[col] = 0 }
                    }
                }
            }
            panel += nr
        }
    }

    /// Writes the transpose of the 8×8 block at `src` (rows `ld` apart) to `dst` (rows `ldd` apart),
    /// as three perfect unshuffles of its 64 elements (each one rotates the index bits by one).
    @inline(__always)
    static func transpose8x8(_ src: UnsafePointer<Float>, ld: Int, to dst: UnsafeMutablePointer<Float>,
                             ldd: Int) {
        typealias V = SIMD8<Float>
        let s = UnsafeRawPointer(src), stride = ld * 4
        var v0 = s.loadUnaligned(as: V.self), v1 = s.loadUnaligned(fromByteOffset: stride, as: V.self)
        var v2 = s.loadUnaligned(fromByteOffset: 2 * stride, as: V.self)
        var v3 = s.loadUnaligned(fromByteOffset: 3 * stride, as: V.self)
        var v4 = s.loadUnaligned(fromByteOffset: 4 * stride, as: V.self)
        var v5 = s.loadUnaligned(fromByteOffset: 5 * stride, as: V.self)
        var v6 = s.loadUnaligned(fromByteOffset: 6 * stride, as: V.self)
        var v7 = s.loadUnaligned(fromByteOffset: 7 * stride, as: V.self)
        for _ in 0..<3 {
            let p0 = SIMD16(lowHalf: v0, highHalf: v1), p1 = SIMD16(lowHalf: v2, highHalf: v3)
            let p2 = SIMD16(lowHalf: v4, highHalf: v5), p3 = SIMD16(lowHalf: v6, highHalf: v7)
            v0 = p0.evenHalf; v1 = p1.evenHalf; v2 = p2.evenHalf; v3 = p3.evenHalf
            v4 = p0.oddHalf; v5 = p1.oddHalf; v6 = p2.oddHalf; v7 = p3.oddHalf
        }
        let d = UnsafeMutableRawPointer(dst), dstride = ldd * 4
        d.storeBytes(of: v0, as: V.self); d.storeBytes(of: v1, toByteOffset: dstride, as: V.self)
        d.storeBytes(of: v2, toByteOffset: 2 * dstride, as: V.self)
        d.storeBytes(of: v3, toByteOffset: 3 * dstride, as: V.self)
        d.storeBytes(of: v4, toByteOffset: 4 * dstride, as: V.self)
        d.storeBytes(of: v5, toByteOffset: 5 * dstride, as: V.self)
        d.storeBytes(of: v6, toByteOffset: 6 * dstride, as: V.self)
        d.storeBytes(of: v7, toByteOffset: 7 * dstride, as: V.self)
    }

    /// A tile that is narrower than 16 or whose C is not row-contiguous: runs the kernel on a
    /// 6×16 buffer holding C's valid part (when the chain continues from C) and copies the valid
    /// part back. Lanes outside the tile compute on whatever the buffer holds and are discarded.
    static func edgeTile(kc: Int, a: UnsafePointer<Float>, aRow: Int, aDepth: Int,
                         b: UnsafePointer<Float>, bDepth: Int,
                         c: UnsafeMutablePointer<Float>, cRow: Int, cColumn: Int, loadC: Bool, scale: Float,
                         height: Int, width: Int) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: mr * nr) { tile in
            let t = tile.baseAddress!
            if loadC {
                t.update(repeating: 0, count: mr * nr)
                for r in 0..<height {
                    for col in 0..<width { t[r * nr + col] = c[r * cRow + col * cColumn] }
                }
            }
            kernel(kc: kc, a: a, aRow: aRow, aDepth: aDepth, b: b, bDepth: bDepth,
                   c: t, ldc: nr, loadC: loadC, scale: scale, height: height)
            if cColumn == 1 {
                for r in 0..<height {
                    for col in 0..<width { c[r * cRow + col] = t[r * nr + col] }
                }
            } else {
                // The swapped product: each of C's rows gets `height` contiguous values.
                for col in 0..<width {
                    for r in 0..<height { c[r * cRow + col * cColumn] = t[r * nr + col] }
                }
            }
        }
    }

    /// `panels` full 6×16 tiles down one 16-column strip: consecutive row panels of A are
    /// `aPanel` apart, C's tiles 6 rows apart. One call per strip keeps per-tile overhead small
    /// when k is short.
    static func strip(kc: Int, a: UnsafePointer<Float>, aRow: Int, aDepth: Int, aPanel: Int,
                      b: UnsafePointer<Float>, bDepth: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool, scale: Float, panels: Int) {
        var pa = a, pc = c
        for _ in 0..<panels {
            kernel6x16(kc: kc, a: pa, aRow: aRow, aDepth: aDepth, b: b, bDepth: bDepth,
                       c: pc, ldc: ldc, loadC: loadC, scale: scale, height: mr)
            pa += aPanel
            pc += mr * ldc
        }
    }

    /// The micro-kernel specialized for each tile height, so a short tile (the last 4 of 64 rows,
    /// say) does only its own rows' FMAs: a constant height removes the other rows as dead code.
    static func kernel(kc: Int, a: UnsafePointer<Float>, aRow: Int, aDepth: Int,
                       b: UnsafePointer<Float>, bDepth: Int,
                       c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool, scale: Float, height: Int) {
        switch height {
        case 6: kernel6x16(kc: kc, a: a, aRow: aRow, aDepth: aDepth, b: b, bDepth: bDepth,
                           c: c, ldc: ldc, loadC: loadC, scale: scale, height: 6)
        case 5: kernel6x16(kc: kc, a: a, aRow: aRow, aDepth: aDepth, b: b, bDepth: bDepth,
                           c: c, ldc: ldc, loadC: loadC, scale: scale, height: 5)
        case 4: kernel6x16(kc: kc, a: a, aRow: aRow, aDepth: aDepth, b: b, bDepth: bDepth,
                           c: c, ldc: ldc, loadC: loadC, scale: scale, height: 4)
        case 3: kernel6x16(kc: kc, a: a, aRow: aRow, aDepth: aDepth, b: b, bDepth: bDepth,
                           c: c, ldc: ldc, loadC: loadC, scale: scale, height: 3)
        case 2: kernel6x16(kc: kc, a: a, aRow: aRow, aDepth: aDepth, b: b, bDepth: bDepth,
                           c: c, ldc: ldc, loadC: loadC, scale: scale, height: 2)
        default: kernel6x16(kc: kc, a: a, aRow: aRow, aDepth: aDepth, b: b, bDepth: bDepth,
                            c: c, ldc: ldc, loadC: loadC, scale: scale, height: 1)
        }
    }

    /// The micro-kernel: `C[0..<height, 0..<16] = scale·((loadC ? C : 0) + A·B)` over `kc` depths,
    /// one FMA per element and depth, in ascending depth, the scaling (when ≠ 1) on the store. A's element (r, p) is at `a + r·aRow + p·aDepth`
    /// (rows at or past `height` are never read: they repeat row 0 and are not stored); B's
    /// 16 columns at depth p are contiguous at `b + p·bDepth`; C's rows are `ldc` apart.
    /// - Complexity: O(96·kc).
    @inline(__always)
    static func kernel6x16(kc: Int, a: UnsafePointer<Float>, aRow: Int, aDepth: Int,
                           b: UnsafePointer<Float>, bDepth: Int,
                           c: UnsafeMutablePointer<Float>, ldc: Int, loadC: Bool, scale: Float, height: Int) {
        typealias V = SIMD8<Float>
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        let rc = UnsafeMutableRawPointer(c)
        let row = ldc * 4
        if loadC {
            c00 = rc.loadUnaligned(as: V.self); c01 = rc.loadUnaligned(fromByteOffset: 32, as: V.self)
            if height > 1 {
                c10 = rc.loadUnaligned(fromByteOffset: row, as: V.self)
                c11 = rc.loadUnaligned(fromByteOffset: row + 32, as: V.self)
            }
            if height > 2 {
                c20 = rc.loadUnaligned(fromByteOffset: 2 * row, as: V.self)
                c21 = rc.loadUnaligned(fromByteOffset: 2 * row + 32, as: V.self)
            }
            if height > 3 {
                c30 = rc.loadUnaligned(fromByteOffset: 3 * row, as: V.self)
                c31 = rc.loadUnaligned(fromByteOffset: 3 * row + 32, as: V.self)
            }
            if height > 4 {
                c40 = rc.loadUnaligned(fromByteOffset: 4 * row, as: V.self)
                c41 = rc.loadUnaligned(fromByteOffset: 4 * row + 32, as: V.self)
            }
            if height > 5 {
                c50 = rc.loadUnaligned(fromByteOffset: 5 * row, as: V.self)
                c51 = rc.loadUnaligned(fromByteOffset: 5 * row + 32, as: V.self)
            }
        }
        let o1 = height > 1 ? aRow : 0, o2 = height > 2 ? 2 * aRow : 0, o3 = height > 3 ? 3 * aRow : 0
        let o4 = height > 4 ? 4 * aRow : 0, o5 = height > 5 ? 5 * aRow : 0
        var pa = a
        var pb = UnsafeRawPointer(b)
        let bStep = bDepth * 4
        for _ in 0..<kc {
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: 32, as: V.self)
            var x = V(repeating: pa[0])
            c00.addProduct(x, b0); c01.addProduct(x, b1)
            x = V(repeating: pa[o1])
            c10.addProduct(x, b0); c11.addProduct(x, b1)
            x = V(repeating: pa[o2])
            c20.addProduct(x, b0); c21.addProduct(x, b1)
            x = V(repeating: pa[o3])
            c30.addProduct(x, b0); c31.addProduct(x, b1)
            x = V(repeating: pa[o4])
            c40.addProduct(x, b0); c41.addProduct(x, b1)
            x = V(repeating: pa[o5])
            c50.addProduct(x, b0); c51.addProduct(x, b1)
            pa += aDepth
            pb += bStep
        }
        if scale != 1 {
            let s = V(repeating: scale)
            c00 *= s; c01 *= s; c10 *= s; c11 *= s; c20 *= s; c21 *= s
            c30 *= s; c31 *= s; c40 *= s; c41 *= s; c50 *= s; c51 *= s
        }
        rc.storeBytes(of: c00, as: V.self); rc.storeBytes(of: c01, toByteOffset: 32, as: V.self)
        if height > 1 {
            rc.storeBytes(of: c10, toByteOffset: row, as: V.self)
            rc.storeBytes(of: c11, toByteOffset: row + 32, as: V.self)
        }
        if height > 2 {
            rc.storeBytes(of: c20, toByteOffset: 2 * row, as: V.self)
            rc.storeBytes(of: c21, toByteOffset: 2 * row + 32, as: V.self)
        }
        if height > 3 {
            rc.storeBytes(of: c30, toByteOffset: 3 * row, as: V.self)
            rc.storeBytes(of: c31, toByteOffset: 3 * row + 32, as: V.self)
        }
        if height > 4 {
            rc.storeBytes(of: c40, toByteOffset: 4 * row, as: V.self)
            rc.storeBytes(of: c41, toByteOffset: 4 * row + 32, as: V.self)
        }
        if height > 5 {
            rc.storeBytes(of: c50, toByteOffset: 5 * row, as: V.self)
            rc.storeBytes(of: c51, toByteOffset: 5 * row + 32, as: V.self)
        }
    }
}
