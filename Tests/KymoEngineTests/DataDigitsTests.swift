import Testing
import KymoTestSupport
@testable import KymoEngine

@Suite struct DataDigitsTests {
    @Test func embeddedDigitsHaveTheirShapeAndClassCounts() throws {
        let digits = try DataSource.digits.load(seed: 0)
        #expect(digits.count == 1797)
        #expect(digits.featureCount == 64)
        #expect(digits.classCount == 10)
        var counts = [Int](repeating: 0, count: 10)
        for label in digits.labels { counts[Int(label)] += 1 }
        #expect(counts == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
        #expect(digits.features.min() == 0)
        #expect(digits.features.max() == 1)
        #expect(digits.features.allSatisfy { ($0 * 16).rounded() == $0 * 16 })
    }

    @Test func embeddedCopyEqualsTheSharedFileScaled() throws {
        let digits = try DataSource.digits.load(seed: 0)
        let shared = try DataSource.csv(path: try SharedData.path("sklearn-digits/digits.csv.gz")).load(seed: 0)
        #expect(digits.labels == shared.labels)
        #expect(digits.features == shared.features.map { $0 / 16 })
        #expect(digits.fingerprint == (try DataSource.digits.load(seed: 99)).fingerprint)
    }

    @Test func embeddedBytesAreTheSharedGzipFile() throws {
        let shared = try SharedData.bytes("sklearn-digits/digits.csv.gz")
        #expect(Base64.decode(EmbeddedDigits.gzipBase64) == shared)
    }

    @Test func base64DecodesRFC4648Vectors() {
        let vectors = ["": "", "Zg==": "f", "Zm8=": "fo", "Zm9v": "foo", "Zm9vYg==": "foob", "Zm9vYmE=": "fooba", "Zm9v\nYmFy": "foobar"]
        for (encoded, decoded) in vectors.sorted(by: { $0.key < $1.key }) {
            #expect(Base64.decode(encoded) == Array(decoded.utf8), "\(encoded)")
        }
        #expect(Base64.decode("Zm9v!") == nil)
        #expect(Base64.decode("Zg=a") == nil)
        #expect(Base64.decode("Zm9vY") == nil)
    }
}
