// The ten-column product: C (m×10) = op(A)·op(B), the output layer of a 10-class model.

import CKernels

extension GEMM {
    /// The output width `tenColumns` handles.
    static let tenColumnWidth = 10

    /// Whether this build has the AVX2/FMA intrinsic kernel `kymo_ten_columns` (CKernels): x86-64
    /// built with `KYMO_TARGET_CPU` set (haswell or newer). Otherwise the Swift kernel runs.
    static var tenColumnIntrinsicsAvailable: Bool { kymo_ten_columns_available() }

    /// `C (m×10) = scale·([C +] op(A)·op(B))`, every element the contract's chain: through the
    /// C kernel `kymo_ten_columns` when the build has it (`tenColumnIntrinsicsAvailable`), else
    /// through the pure-Swift `tenColumnsSwift`. The two give the same bits (tested).
    ///
    /// **The C kernel** runs 8-row tiles in ten accumulators: two groups of four rows (rows
    /// 0, 1 | 4, 5 and 2, 3 | 6, 7, two per 128-bit half) times five column pairs (2q, 2q+1).
    /// Per depth each pair `(op(B)[p,2q], op(B)[p,2q+1])` is one 64-bit broadcast load from op(B)
    /// packed 16 floats per depth, and each group's `(a_r, a_r, a_r+1, a_r+1 | …)` one in-lane
    /// shuffle of two registers that hold rows r and r+4 (r+1 and r+5) side by side for four
    /// depths: ten FMAs, seven vector loads and three shuffle operations per depth for 80
    /// elements. On the Zen 4 EPYC it takes 3.39 µs for 64×10×256 against the Swift kernel's
    /// ≈ 4.0 and OpenBLAS's 3.22 (a first C version, the tile held transposed with ten 32-bit
    /// broadcasts per depth, took 3.72: bound by its 12 vector loads per depth, not its shuffles);
    /// README.md's GEMM paragraph has the measurements and the variants that lost.
    /// - Complexity: O(m·k·10) time; O(16·k) scratch floats, allocated per call.
    static func tenColumns(m: Int, k: Int, _ o: Operands, accumulate: Bool, scale: Float) {
        if tenColumnIntrinsicsAvailable {
            tenColumnsIntrinsics(m: m, k: k, o, accumulate: accumulate, scale: scale)
        } else {
            tenColumnsSwift(m: m, k: k, o, accumulate: accumulate, scale: scale)
        }
    }

    /// `tenColumns` through the C kernel; only when `tenColumnIntrinsicsAvailable` (it traps
    /// otherwise). Requires k ≥ 1 and row-major C.
    /// - Complexity: O(m·k·10) time; O(16·k) scratch floats, allocated per call.
    static func tenColumnsIntrinsics(m: Int, k: Int, _ o: Operands, accumulate: Bool, scale: Float) {
        precondition(o.cColumn == 1 && k >= 1, "GEMM: the ten-column kernel writes row-major C, k ≥ 1")
        kymo_ten_columns(m, k, o.a, o.lda, o.transposeA, o.b, o.ldb, o.transposeB, o.c, o.cRow,
                         accumulate, scale)
    }

    /// `tenColumns` in pure Swift (the path of builds without AVX2/FMA for C, e.g. arm64 or a
    /// plain `swift build`), without packing op(A): every SIMD lane is a useful output element
    /// and nothing of size m·k is copied.
    ///
    /// The blocked kernel wastes 6 of 16 lanes on a 10-wide C, or, computing Cᵀ instead, packs all
    /// of op(A)ᵀ (64 KB for the MLP's 64×256 last hidden layer) and stores C through a transposing
    /// buffer. Here op(B) (k×10, small) is packed once, 16 floats per depth: `op(B)[p, 0..<8]`,
    /// then `op(B)[p,8]` four times and `op(B)[p,9]` four times. Eight rows of C at a time run in
    /// registers over all k: for each depth, the eight broadcasts of `op(A)[i,p]` (read in place,
    /// each row from its own base pointer and one shared depth index) feed one FMA each into
    /// columns 0…7 of their row, and are combined four at a time into `(x₀,x₁,x₂,x₃,x₀,x₁,x₂,x₃)`,
    /// which one FMA with the packed `(b₈,b₈,b₈,b₈,b₉,b₉,b₉,b₉)` advances for columns 8…9 of four
    /// rows: ten FMAs for the tile's 80 elements per depth, as many as any full-lane product needs.
    ///
    /// **Speed limit.** Building each four-row vector takes four shuffles (LLVM turns the selects
    /// of broadcasts into three 128-bit shuffles and one lane copy), eight per depth beside the ten
    /// FMAs; on the Zen 4 this was measured on, shuffles and FMAs share the vector pipes, so
    /// the loop runs at about 6 cycles per depth against the FMAs' 5. Interleaving the tile's rows
    /// first (so that the vector is one 16-byte broadcast load) made the loop itself as fast as
    /// OpenBLAS's whole product, but the interleaving then cost more than it saved, and building
    /// `(x₀,…,x₇)` once for both columns spilled registers, and a tile of ten consecutive C
    /// vectors with two-row blends had each blend lowered to an insert and a lane-crossing
    /// permute (2026-11-29).
    ///
    /// Every element is still one FMA chain `fma(op(A)[i,p], op(B)[p,j], acc)` in ascending p,
    /// from C (accumulating) or 0, scaled on the store, so the bits are the contract's.
    /// - Complexity: O(m·k·10) time; O(16·k) scratch floats, allocated per call.
    static func tenColumnsSwift(m: Int, k: Int, _ o: Operands, accumulate: Bool, scale: Float) {
        precondition(o.cColumn == 1, "GEMM: the ten-column kernel writes row-major C")
        let pack = UnsafeMutableRawPointer.allocate(byteCount: 16 * k * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: 16 * k)
        defer { pack.deallocate() }
        packTenColumns(o, k: k, into: pack)
        let (aRow, aDepth) = o.transposeA ? (1, o.lda) : (o.lda, 1)
        var i = 0
        while i < m {
            let height = min(8, m - i)
            let a = o.a + i * aRow, c = o.c + i * o.cRow
            switch height {
            case 8: tenColumnTile(k: k, a: a, aRow: aRow, aDepth: aDepth, b: pack, c: c, ldc: o.cRow,
                                  loadC: accumulate, scale: scale, height: 8)
            case 7: tenColumnTile(k: k, a: a, aRow: aRow, aDepth: aDepth, b: pack, c: c, ldc: o.cRow,
                                  loadC: accumulate, scale: scale, height: 7)
            case 6: tenColumnTile(k: k, a: a, aRow: aRow, aDepth: aDepth, b: pack, c: c, ldc: o.cRow,
                                  loadC: accumulate, scale: scale, height: 6)
            case 5: tenColumnTile(k: k, a: a, aRow: aRow, aDepth: aDepth, b: pack, c: c, ldc: o.cRow,
                                  loadC: accumulate, scale: scale, height: 5)
            case 4: tenColumnTile(k: k, a: a, aRow: aRow, aDepth: aDepth, b: pack, c: c, ldc: o.cRow,
                                  loadC: accumulate, scale: scale, height: 4)
            case 3: tenColumnTile(k: k, a: a, aRow: aRow, aDepth: aDepth, b: pack, c: c, ldc: o.cRow,
                                  loadC: accumulate, scale: scale, height: 3)
            case 2: tenColumnTile(k: k, a: a, aRow: aRow, aDepth: aDepth, b: pack, c: c, ldc: o.cRow,
                                  loadC: accumulate, scale: scale, height: 2)
            default: tenColumnTile(k: k, a: a, aRow: aRow, aDepth: aDepth, b: pack, c: c, ldc: o.cRow,
                                   loadC: accumulate, scale: scale, height: 1)
            }
            i += height
        }
    }

    /// Writes op(B)'s ten columns as 16 floats per depth p: columns 0…7, then column 8 four
    /// times, then column 9 four times.
    /// - Complexity: O(10·k).
    static func packTenColumns(_ o: Operands, k: Int, into d: UnsafeMutablePointer<Float>) {
        if o.transposeB {
            // op(B)[p, j] = b[j·ldb + p]: 8×8 transposes for columns 0…7, the rest one by one.
            let k8 = k / 8 * 8
            var p = 0
            while p < k8 {
                transpose8x8(o.b + p, ld: o.ldb, to: d + p * 16, ldd: 16)
                p += 8
            }
            for p in k8..<k { for j in 0..<8 { d[p * 16 + j] = o.b[j * o.ldb + p] } }
            // Columns 8 and 9 (contiguous in p): four depths at a time, each value repeated.
            let k4 = k / 4 * 4
            let b8 = UnsafeRawPointer(o.b + 8 * o.ldb), b9 = UnsafeRawPointer(o.b + 9 * o.ldb)
            p = 0
            while p < k4 {
                let x = b8.loadUnaligned(fromByteOffset: 4 * p, as: SIMD4<Float>.self)
                let y = b9.loadUnaligned(fromByteOffset: 4 * p, as: SIMD4<Float>.self)
                for q in 0..<4 {
                    UnsafeMutableRawPointer(d + (p + q) * 16 + 8).storeBytes(
                        of: SIMD8(lowHalf: SIMD4(repeating: x[q]), highHalf: SIMD4(repeating: y[q])),
                        as: SIMD8<Float>.self)
                }
                p += 4
            }
            for p in k4..<k {
                let (x, y) = (o.b[8 * o.ldb + p], o.b[9 * o.ldb + p])
                for r in 0..<4 { d[p * 16 + 8 + r] = x; d[p * 16 + 12 + r] = y }
            }
        } else {
            for p in 0..<k {
                let s = o.b + p * o.ldb, dp = d + p * 16
                UnsafeMutableRawPointer(dp).storeBytes(
                    of: UnsafeRawPointer(s).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                let (x, y) = (s[8], s[9])
                for r in 0..<4 { dp[8 + r] = x; dp[12 + r] = y }
            }
        }
    }

    /// Rows `0..<height` (at most 8) of a ten-column C over all k depths: row r's columns 0…7
    /// accumulate in `c<r>`, columns 8 and 9 of rows 0…3 in `q0` (lanes r and 4 + r), of rows
    /// 4…7 in `q1` (lanes r − 4 and r). Rows at or past `height` read row 0 and are never stored.
    /// - Complexity: O(80·k).
    @inline(__always)
    static func tenColumnTile(k: Int, a: UnsafePointer<Float>, aRow: Int, aDepth: Int,
                              b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                              loadC: Bool, scale: Float, height: Int) {
        typealias V = SIMD8<Float>
        var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V(), c6 = V(), c7 = V()
        var q0 = V(), q1 = V()
        let rc = UnsafeMutableRawPointer(c), row = ldc * 4
        if loadC {
            c0 = rc.loadUnaligned(as: V.self)
            if height > 1 { c1 = rc.loadUnaligned(fromByteOffset: row, as: V.self) }
            if height > 2 { c2 = rc.loadUnaligned(fromByteOffset: 2 * row, as: V.self) }
            if height > 3 { c3 = rc.loadUnaligned(fromByteOffset: 3 * row, as: V.self) }
            if height > 4 { c4 = rc.loadUnaligned(fromByteOffset: 4 * row, as: V.self) }
            if height > 5 { c5 = rc.loadUnaligned(fromByteOffset: 5 * row, as: V.self) }
            if height > 6 { c6 = rc.loadUnaligned(fromByteOffset: 6 * row, as: V.self) }
            if height > 7 { c7 = rc.loadUnaligned(fromByteOffset: 7 * row, as: V.self) }
            for r in 0..<min(height, 4) {
                q0[r] = c[r * ldc + 8]; q0[r + 4] = c[r * ldc + 9]
            }
            for r in 4..<max(height, 4) {
                q1[r - 4] = c[r * ldc + 8]; q1[r] = c[r * ldc + 9]
            }
        }
        let o1 = height > 1 ? aRow : 0, o2 = height > 2 ? 2 * aRow : 0, o3 = height > 3 ? 3 * aRow : 0
        let o4 = height > 4 ? 4 * aRow : 0, o5 = height > 5 ? 5 * aRow : 0
        let o6 = height > 6 ? 6 * aRow : 0, o7 = height > 7 ? 7 * aRow : 0
        // Lanes taking the second operand of `replacing`: odd lanes, then lane pairs 2–3 and 6–7,
        // which turn four broadcasts into (x₀, x₁, x₂, x₃, x₀, x₁, x₂, x₃) (four shuffles as
        // LLVM emits it; the pairwise layout (x₀, x₀, x₁, x₁, …) used before measured slower).
        let odd: SIMDMask<SIMD8<Int32>> = [false, true, false, true, false, true, false, true]
        let pairs: SIMDMask<SIMD8<Int32>> = [false, false, true, true, false, false, true, true]
        // Each row's own base pointer and one depth index shared by all eight broadcasts.
        let r0 = a, r1 = a + o1, r2 = a + o2, r3 = a + o3, r4 = a + o4, r5 = a + o5, r6 = a + o6, r7 = a + o7
        var pb = UnsafeRawPointer(b)
        var index = 0
        for _ in 0..<k {
            let w = pb.loadUnaligned(as: V.self)
            let pair = pb.loadUnaligned(fromByteOffset: 32, as: V.self)
            let x0 = V(repeating: r0[index]), x1 = V(repeating: r1[index])
            let x2 = V(repeating: r2[index]), x3 = V(repeating: r3[index])
            c0.addProduct(x0, w); c1.addProduct(x1, w); c2.addProduct(x2, w); c3.addProduct(x3, w)
            let low = x0.replacing(with: x1, where: odd), high = x2.replacing(with: x3, where: odd)
            q0.addProduct(low.replacing(with: high, where: pairs), pair)
            if height > 4 {
                let x4 = V(repeating: r4[index]), x5 = V(repeating: r5[index])
                let x6 = V(repeating: r6[index]), x7 = V(repeating: r7[index])
                c4.addProduct(x4, w); c5.addProduct(x5, w); c6.addProduct(x6, w); c7.addProduct(x7, w)
                let low = x4.replacing(with: x5, where: odd), high = x6.replacing(with: x7, where: odd)
                q1.addProduct(low.replacing(with: high, where: pairs), pair)
            }
            index &+= aDepth
            pb += 64
        }
        if scale != 1 {
            let s = V(repeating: scale)
            c0 *= s; c1 *= s; c2 *= s; c3 *= s; c4 *= s; c5 *= s; c6 *= s; c7 *= s
            q0 *= s; q1 *= s
        }
        rc.storeBytes(of: c0, as: V.self)
        if height > 1 { rc.storeBytes(of: c1, toByteOffset: row, as: V.self) }
        if height > 2 { rc.storeBytes(of: c2, toByteOffset: 2 * row, as: V.self) }
        if height > 3 { rc.storeBytes(of: c3, toByteOffset: 3 * row, as: V.self) }
        if height > 4 { rc.storeBytes(of: c4, toByteOffset: 4 * row, as: V.self) }
        if height > 5 { rc.storeBytes(of: c5, toByteOffset: 5 * row, as: V.self) }
        if height > 6 { rc.storeBytes(of: c6, toByteOffset: 6 * row, as: V.self) }
        if height > 7 { rc.storeBytes(of: c7, toByteOffset: 7 * row, as: V.self) }
        for r in 0..<min(height, 4) {
            c[r * ldc + 8] = q0[r]; c[r * ldc + 9] = q0[r + 4]
        }
        for r in 4..<max(height, 4) {
            c[r * ldc + 8] = q1[r - 4]; c[r * ldc + 9] = q1[r]
        }
    }
}
