import Foundation
import Testing
@testable import KymoStore
import KymoTestSupport
import KymoCore

@Suite struct ExportTests {
    func makeRun(_ dir: TemporaryDirectory) throws -> Lab {
        let lab = try Lab(path: dir.path)
        let writer = try lab.createRun("r", manifest: RunManifest())
        try writer.append(column: "t2/w", steps: 0..<3, .float32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, .nan]))
        try writer.append(column: "t2/w", steps: 5..<6, .float32([-1, -2, .infinity, 0.1]))
        try writer.append(column: "t0/loss", steps: 0..<4, .float32([0.5, 0.25, 1e-5, 3]))
        try writer.append(column: "t0/ids", steps: 0..<2, .uint32([7, 4_000_000_000]))
        try writer.append(column: "t3/a", steps: 0..<2, .float16([0x3C00, 0xC000, 0x0001, 0x7BFF]))
        try writer.append(column: "t2/q", steps: 0..<3, .int8(codes: [-4, 0, 3], scale: 0.5))
        try writer.append(column: "t0/i", steps: 0..<2, .int32([-3, 9]))
        try writer.finish()
        return lab
    }

    @Test func npyHeaderFollowsTheFormat() throws {
        let header = Npy.header(descr: "<f4", shape: [4, 3])
        #expect(Array(header[0..<8]) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = Int(header[8]) | Int(header[9]) << 8
        #expect(header.count == 10 + length)
        #expect(header.count % 64 == 0)
        #expect(header.last == UInt8(ascii: "\n"))
        let text = String(decoding: header[10...], as: UTF8.self)
        #expect(text.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }"))
        #expect(String(decoding: Npy.header(descr: "<i8", shape: [7])[10...], as: UTF8.self).contains("'shape': (7,)"))
    }

    @Test func exportsAreDeterministicAndCarrySteps() throws {
        let dir = try TemporaryDirectory()
        let reader = try makeRun(dir).openRun("r")
        for format in ExportFormat.allCases {
            #expect(try Exporter.export(reader, column: "t2/w", format: format) == Exporter.export(reader, column: "t2/w", format: format))
        }
        let npy = try Exporter.export(reader, column: "t2/w", format: .npy)
        #expect(npy.count == Npy.header(descr: "<f4", shape: [4, 4]).count + 16 * 4)
        let csv = String(decoding: try Exporter.export(reader, column: "t2/w", format: .csv), as: UTF8.self)
        #expect(csv == "step,v0,v1,v2,v3\n0,1.0,2.0,3.0,4.0\n1,5.0,6.0,7.0,8.0\n2,9.0,10.0,11.0,nan\n5,-1.0,-2.0,inf,0.1\n")
        let jsonl = String(decoding: try Exporter.export(reader, column: "t0/loss", format: .jsonl), as: UTF8.self)
        #expect(jsonl == "{\"step\":0,\"value\":0.5}\n{\"step\":1,\"value\":0.25}\n{\"step\":2,\"value\":1e-05}\n{\"step\":3,\"value\":3.0}\n")
        #expect(throws: StoreError.self) { try Exporter.export(reader, column: "nope", format: .npy) }
    }

    /// NumPy reads our files with plain np.load (skipped only when python3 with numpy is absent).
    @Test func numpyLoadsTheExports() throws {
        let dir = try TemporaryDirectory()
        let reader = try makeRun(dir).openRun("r")
        let columns = ["t2/w", "t0/loss", "t0/ids", "t3/a", "t2/q", "t0/i"]
        for (i, column) in columns.enumerated() {
            try Exporter.export(reader, column: column, format: .npy, to: dir.file("c\(i).npy"))
        }
        try Exporter.export(reader, column: "t2/w", format: .npz, to: dir.file("w.npz"))
        try Exporter.export(reader, column: "t2/w", format: .jsonl, to: dir.file("w.jsonl"))
        let script = """
        import sys, json
        try:
            import numpy as np
        except ImportError:
            print("NO-NUMPY"); sys.exit(0)
        d = sys.argv[1]
        for i in range(\(columns.count)):
            a = np.load(f"{d}/c{i}.npy")
            print(a.dtype.str, a.shape, [None if v != v else float(v) for v in a.ravel().tolist()])
        z = np.load(f"{d}/w.npz")
        print(sorted(z.files), z["steps"].tolist(), z["values"].shape)
        print([json.loads(l)["step"] for l in open(f"{d}/w.jsonl")])
        """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", script, dir.path]
        let pipe = Pipe()
        python.standardOutput = pipe
        python.standardError = pipe
        do { try python.run() } catch { return } // no python3 on this machine
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        if output.hasPrefix("NO-NUMPY") { return }
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines == [
            "<f4 (4, 4) [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, None, -1.0, -2.0, inf, 0.10000000149011612]",
            "<f4 (4,) [0.5, 0.25, 9.999999747378752e-06, 3.0]",
            "<u4 (2,) [7.0, 4000000000.0]",
            "<f2 (2, 2) [1.0, -2.0, 5.960464477539063e-08, 65504.0]",
            "<f4 (3,) [-2.0, 0.0, 1.5]",
            "<i4 (2,) [-3.0, 9.0]",
            "['steps', 'values'] [0, 1, 2, 5] (4, 4)",
            "[0, 1, 2, 5]",
        ], "python said: \(output)")
    }

    @Test func halfWidensExactly() throws {
        let bits: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x7E00, 0x8000, 0x3555]
        let values = try #require(ColumnData.float16(bits).floatValues())
        #expect(values[0] == 1)
        #expect(values[1] == -2)
        #expect(values[2] == 65504)
        #expect(values[3] == 0x1p-24)
        #expect(values[4] == .infinity)
        #expect(values[5].isNaN)
        #expect(values[6] == 0 && values[6].sign == .minus)
        #expect(values[7] == 0x1.554p-2)
    }
}
