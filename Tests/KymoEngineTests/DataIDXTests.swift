import Testing
import KymoTestSupport
@testable import KymoEngine

@Suite struct DataIDXTests {
    @Test func loadsTheSharedMNISTTrainingSet() throws {
        let directory = try SharedData.path("mnist")
        let dataset = try DataSource.idx(directory: directory).load(seed: 0)
        #expect(dataset.count == 60_000)
        #expect(dataset.featureCount == 28 * 28)
        #expect(dataset.classCount == 10)
        #expect(Array(dataset.labels.prefix(5)) == [5, 0, 4, 1, 9])
        #expect(dataset.features.count == 60_000 * 784)
        #expect(dataset.features.min() == 0)
        #expect(dataset.features.max() == 1)
        // Pixels are byte / 255.
        let first = dataset.features[0..<784]
        #expect(first.allSatisfy { Float(($0 * 255).rounded()) / 255 == $0 })
        #expect(first.contains { $0 > 0 })
        var counts = [Int](repeating: 0, count: 10)
        for label in dataset.labels { counts[Int(label)] += 1 }
        // MNIST's training class counts.
        #expect(counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    }

    private func writePair(_ directory: TemporaryDirectory, images: [UInt8], labels: [UInt8]) throws {
        try DataFixtures.write(images, to: directory.file("train-images-idx3-ubyte"))
        try DataFixtures.write(labels, to: directory.file("train-labels-idx1-ubyte"))
    }

    @Test func loadsUncompressedFilesAndScalesPixels() throws {
        let directory = try TemporaryDirectory()
        let pixels: [UInt8] = [0, 255, 51, 102, 153, 204, 1, 2, 3, 4, 5, 6]
        try writePair(directory, images: DataFixtures.idx(dimensions: [2, 2, 3], values: pixels),
                      labels: DataFixtures.idx(dimensions: [2], values: [7, 3]))
        let dataset = try DataSource.idx(directory: directory.path).load(seed: 0)
        #expect(dataset.count == 2)
        #expect(dataset.featureCount == 6)
        #expect(dataset.labels == [7, 3])
        #expect(dataset.features == pixels.map { Float($0) / 255 })
        #expect(dataset.features[1] == 1)
    }

    @Test func wrongMagicNamesTheFileAndField() throws {
        let directory = try TemporaryDirectory()
        try writePair(directory, images: [0, 0, 8, 1] + DataFixtures.idx(dimensions: [2], values: [1, 2]).dropFirst(4),
                      labels: DataFixtures.idx(dimensions: [2], values: [1, 2]))
        let text = DataFixtures.expectMalformed(field: "magic.dimensions", offset: 3, message: "expected 00 00 08 03",
                                                source: "train-images-idx3-ubyte") {
            try DataSource.idx(directory: directory.path).load(seed: 0)
        }
        #expect(text.contains("00 00 08 01"))

        try DataFixtures.write([0x50, 0x4B, 3, 4, 0, 0, 0, 0], to: directory.file("train-images-idx3-ubyte"))
        DataFixtures.expectMalformed(field: "magic", offset: 0, message: "magic number is 50 4b 03 04") {
            try DataSource.idx(directory: directory.path).load(seed: 0)
        }
        try DataFixtures.write(DataFixtures.idx(dimensions: [1, 1, 1], values: [0, 0, 0, 0], type: 0x0D),
                               to: directory.file("train-images-idx3-ubyte"))
        DataFixtures.expectMalformed(field: "magic.type", offset: 2, message: "0x0d is not supported") {
            try DataSource.idx(directory: directory.path).load(seed: 0)
        }
    }

    @Test func truncatedPixelsAndHeaderAreErrors() throws {
        let directory = try TemporaryDirectory()
        let images = DataFixtures.idx(dimensions: [3, 2, 2], values: Array(repeating: 9, count: 12))
        try writePair(directory, images: Array(images.dropLast(5)), labels: DataFixtures.idx(dimensions: [3], values: [0, 1, 2]))
        DataFixtures.expectMalformed(field: "pixels", offset: images.count - 5, message: "need 12 bytes of data, only 7 present") {
            try DataSource.idx(directory: directory.path).load(seed: 0)
        }
        try DataFixtures.write(Array(images.prefix(9)), to: directory.file("train-images-idx3-ubyte"))
        DataFixtures.expectMalformed(field: "dimension[1]", offset: 8, message: "ends inside the header") {
            try DataSource.idx(directory: directory.path).load(seed: 0)
        }
        try DataFixtures.write(images + [1], to: directory.file("train-images-idx3-ubyte"))
        DataFixtures.expectMalformed(field: "pixels", offset: images.count, message: "1 unexpected bytes") {
            try DataSource.idx(directory: directory.path).load(seed: 0)
        }
    }

    @Test func truncatedGzipIsAnError() throws {
        let directory = try TemporaryDirectory()
        let gz = try SharedData.bytes("mnist/train-labels-idx1-ubyte.gz")
        try DataFixtures.write(Array(gz.prefix(gz.count / 2)), to: directory.file("train-labels-idx1-ubyte.gz"))
        try DataFixtures.write(DataFixtures.idx(dimensions: [1, 1, 1], values: [0]), to: directory.file("train-images-idx3-ubyte"))
        DataFixtures.expectMalformed(field: "gzip", message: "truncated", source: "train-labels-idx1-ubyte.gz") {
            try DataSource.idx(directory: directory.path).load(seed: 0)
        }
    }

    @Test func labelOutOfRangeNamesItsIndexAndOffset() throws {
        let directory = try TemporaryDirectory()
        try writePair(directory, images: DataFixtures.idx(dimensions: [3, 1, 1], values: [0, 0, 0]),
                      labels: DataFixtures.idx(dimensions: [3], values: [4, 12, 1]))
        DataFixtures.expectMalformed(field: "label[1]", offset: 9, message: "label 12 is out of range 0..<10") {
            try DataSource.idx(directory: directory.path).load(seed: 0)
        }
    }

    @Test func countMismatchIsAnError() throws {
        let directory = try TemporaryDirectory()
        try writePair(directory, images: DataFixtures.idx(dimensions: [3, 1, 1], values: [0, 0, 0]),
                      labels: DataFixtures.idx(dimensions: [2], values: [4, 1]))
        DataFixtures.expectMalformed(field: "dimension[0] (count)", offset: 4, message: "2 labels but 3 images") {
            try DataSource.idx(directory: directory.path).load(seed: 0)
        }
    }

    @Test func missingFilesAreIOErrors() throws {
        let directory = try TemporaryDirectory()
        #expect(throws: EngineError.io(path: directory.file("train-images-idx3-ubyte"), message: "no such file (nor train-images-idx3-ubyte.gz)")) {
            try DataSource.idx(directory: directory.path).load(seed: 0)
        }
        #expect(throws: EngineError.self) {
            try DataSource.idx(directory: directory.file("nowhere")).load(seed: 0)
        }
    }
}
