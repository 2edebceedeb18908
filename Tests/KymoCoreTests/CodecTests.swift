import Testing
import KymoTestSupport
@testable import KymoCore

@Suite struct CodecTests {
    @Test func xxh3MatchesItsReferenceVector() {
        // XXH3_64bits("", seed 0) = 0x2D06800538D394C2 (xxHash's published test vector).
        let empty: [UInt8] = []
        #expect(empty.withUnsafeBytes { XXH3.hash($0) } == 0x2D06_8005_38D3_94C2)
    }

    @Test func keyHashEqualsByteHash() {
        let key: UInt64 = 0x0123_4567_89AB_CDEF
        let viaBytes = withUnsafeBytes(of: key.littleEndian) { XXH3.hash($0, seed: 9) }
        #expect(XXH3.hash(key, seed: 9) == viaBytes)
        #expect(XXH3.hash(key, seed: 9) != XXH3.hash(key, seed: 10))
    }

    @Test func streamingHashEqualsOneShot() {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var hasher = XXH3Hasher(seed: 3)
        hasher.update(Array(data[0..<1234]))
        hasher.update(Array(data[1234...]))
        #expect(hasher.digest() == data.withUnsafeBytes { XXH3.hash($0, seed: 3) })
    }

    @Test func gzipDecodesTheSharedDigitsFile() throws {
        let path = try SharedData.path("sklearn-digits/digits.csv.gz")
        let compressed = try SharedData.bytes("sklearn-digits/digits.csv.gz")
        let raw = try Gzip.decompress(compressed, source: path)
        #expect(raw.count == 264_712)
        #expect(raw.filter { $0 == UInt8(ascii: "\n") }.count == 1797)
    }

    @Test func truncatedGzipIsAnError() throws {
        let path = try SharedData.path("sklearn-digits/digits.csv.gz")
        let compressed = try SharedData.bytes("sklearn-digits/digits.csv.gz")
        #expect(throws: CoreError.self) {
            _ = try Gzip.decompress(Array(compressed.prefix(1000)), source: path)
        }
    }
}

