import Testing
import KymoTestSupport
@testable import KymoEngine

@Suite struct DataNPYTests {
    private func load(features: [UInt8], labels: [UInt8]) throws -> Dataset {
        let directory = try TemporaryDirectory()
        try DataFixtures.write(features, to: directory.file("features.npy"))
        try DataFixtures.write(labels, to: directory.file("labels.npy"))
        return try DataSource.npy(features: directory.file("features.npy"), labels: directory.file("labels.npy")).load(seed: 0)
    }

    private let values: [Float] = [0, 0.5, -1.25, 3, 4, 250]
    private var labels8: [UInt8] { DataFixtures.npy(descr: "<i8", shape: [2], data: DataFixtures.littleEndianBytes([Int64(1), 4])) }

    @Test(arguments: ["<f4", "<f8", "|u1", "<i4", "<i8"])
    func loadsEveryFeatureType(descr: String) throws {
        let sample: [Float] = descr == "<f4" || descr == "<f8" ? values : values.map { max(0, $0.rounded(.down)) }
        let data: [UInt8] = switch descr {
        case "<f4": DataFixtures.floatBytes(sample)
        case "<f8": DataFixtures.doubleBytes(sample.map(Double.init))
        case "|u1": sample.map { UInt8($0) }
        case "<i4": DataFixtures.littleEndianBytes(sample.map { Int32($0) })
        default: DataFixtures.littleEndianBytes(sample.map { Int64($0) })
        }
        let dataset = try load(features: DataFixtures.npy(descr: descr, shape: [2, 3], data: data), labels: labels8)
        #expect(dataset.count == 2)
        #expect(dataset.featureCount == 3)
        #expect(dataset.classCount == 5)
        #expect(dataset.labels == [1, 4])
        #expect(dataset.features == sample)
    }

    @Test func loadsVersion2And3HeadersAndFlattensImages() throws {
        for major: UInt8 in [2, 3] {
            let features = DataFixtures.npy(descr: "<f4", shape: [2, 1, 3], data: DataFixtures.floatBytes(values), major: major)
            let labels = DataFixtures.npy(descr: "|u1", shape: [2], data: [0, 1], major: major)
            let dataset = try load(features: features, labels: labels)
            #expect(dataset.featureCount == 3)
            #expect(dataset.features == values)
            #expect(dataset.labels == [0, 1])
        }
    }

    @Test func refusesFortranOrderAndBigEndianClearly() {
        DataFixtures.expectMalformed(field: "header.fortran_order", offset: 10, message: "np.ascontiguousarray") {
            try load(features: DataFixtures.npy(descr: "<f4", shape: [2, 3], data: DataFixtures.floatBytes(values), fortran: true),
                     labels: labels8)
        }
        DataFixtures.expectMalformed(field: "header.descr", offset: 10, message: "big-endian data ('>f4') is not supported") {
            try load(features: DataFixtures.npy(descr: ">f4", shape: [2, 3], data: DataFixtures.floatBytes(values)), labels: labels8)
        }
        DataFixtures.expectMalformed(field: "header.descr", offset: 10, message: "element type '<f2' is not supported") {
            try load(features: DataFixtures.npy(descr: "<f2", shape: [2, 3], data: Array(repeating: 0, count: 12)), labels: labels8)
        }
    }

    @Test func badHeadersAndSizesAreErrors() {
        let good = DataFixtures.npy(descr: "<f4", shape: [2, 3], data: DataFixtures.floatBytes(values))
        var badMagic = good
        badMagic[1] = UInt8(ascii: "M")
        DataFixtures.expectMalformed(field: "magic", offset: 0, message: "not a .npy file") {
            try load(features: badMagic, labels: labels8)
        }
        var badVersion = good
        badVersion[6] = 4
        DataFixtures.expectMalformed(field: "version", offset: 6, message: "version 4.0 is not supported") {
            try load(features: badVersion, labels: labels8)
        }
        DataFixtures.expectMalformed(field: "header", message: "expected '{'") {
            try load(features: DataFixtures.npy(header: "descr: <f4", data: []), labels: labels8)
        }
        DataFixtures.expectMalformed(field: "header.shape", offset: 10, message: "has no 'shape'") {
            try load(features: DataFixtures.npy(header: "{'descr': '<f4', 'fortran_order': False}", data: []), labels: labels8)
        }
        DataFixtures.expectMalformed(field: "header", offset: 10, message: "runs past the end") {
            try load(features: Array(good.prefix(40)), labels: labels8)
        }
        DataFixtures.expectMalformed(field: "data", offset: good.count - 1, message: "needs 24 bytes of data, only 23 present") {
            try load(features: Array(good.dropLast()), labels: labels8)
        }
        DataFixtures.expectMalformed(field: "data", offset: good.count, message: "2 unexpected bytes") {
            try load(features: good + [0, 0], labels: labels8)
        }
        DataFixtures.expectMalformed(field: "data[2]", message: "not finite") {
            try load(features: DataFixtures.npy(descr: "<f4", shape: [2, 3], data: DataFixtures.floatBytes([0, 1, .nan, 3, 4, 5])),
                     labels: labels8)
        }
    }

    @Test func badLabelsAreErrors() {
        let features = DataFixtures.npy(descr: "<f4", shape: [2, 3], data: DataFixtures.floatBytes(values))
        DataFixtures.expectMalformed(field: "label[1]", message: "label -3 is out of range") {
            try load(features: features, labels: DataFixtures.npy(descr: "<i4", shape: [2], data: DataFixtures.littleEndianBytes([Int32(0), -3])))
        }
        DataFixtures.expectMalformed(field: "shape", message: "3 labels but 2 feature rows") {
            try load(features: features, labels: DataFixtures.npy(descr: "|u1", shape: [3], data: [0, 1, 2]))
        }
        DataFixtures.expectMalformed(field: "descr", message: "labels must be integers") {
            try load(features: features, labels: DataFixtures.npy(descr: "<f4", shape: [2], data: DataFixtures.floatBytes([0, 1])))
        }
        DataFixtures.expectMalformed(field: "shape", message: "labels must be 1-D") {
            try load(features: features, labels: DataFixtures.npy(descr: "|u1", shape: [2, 1], data: [0, 1]))
        }
        DataFixtures.expectMalformed(field: "shape", message: "features must have 2 or more dimensions") {
            try load(features: DataFixtures.npy(descr: "|u1", shape: [2], data: [0, 1]), labels: labels8)
        }
    }
}
