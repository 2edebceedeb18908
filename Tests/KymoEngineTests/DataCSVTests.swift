import Testing
import KymoTestSupport
@testable import KymoEngine

@Suite struct DataCSVTests {
    private func load(_ text: String) throws -> Dataset {
        let directory = try TemporaryDirectory()
        let path = directory.file("data.csv")
        try DataFixtures.write(text, to: path)
        return try DataSource.csv(path: path).load(seed: 0)
    }

    @Test func loadsNumbersAndLabels() throws {
        let dataset = try load("0.5,1,-2e-1,2\n3, 4 ,5,0\r\n\n1.25,0,0,1\n")
        #expect(dataset.count == 3)
        #expect(dataset.featureCount == 3)
        #expect(dataset.classCount == 3)
        #expect(dataset.labels == [2, 0, 1])
        #expect(dataset.features == [0.5, 1, -0.2, 3, 4, 5, 1.25, 0, 0])
    }

    @Test func skipsAHeaderLineOnly() throws {
        let dataset = try load("a,b,label\n1,2,1\n3,4,0")
        #expect(dataset.count == 2)
        #expect(dataset.labels == [1, 0])
        DataFixtures.expectMalformed(field: "line 2, column 2", offset: 8, message: "'b' is not a number") {
            try load("1,2,1\n3,b,0\n")
        }
    }

    @Test func loadsTheSharedDigitsFileGzipped() throws {
        let dataset = try DataSource.csv(path: try SharedData.path("sklearn-digits/digits.csv.gz")).load(seed: 0)
        #expect(dataset.count == 1797)
        #expect(dataset.featureCount == 64)
        #expect(dataset.classCount == 10)
        #expect(dataset.features.max() == 16)
    }

    @Test func raggedRowNamesItsLine() {
        let text = DataFixtures.expectMalformed(field: "line 3", offset: 12, message: "ragged row: 2 columns, expected 3 as on line 1") {
            try load("1,2,0\n3,4,1\n5,1\n")
        }
        #expect(text.contains("offset 12"))
    }

    @Test func nonNumbersAndNonFiniteFeaturesAreErrors() {
        DataFixtures.expectMalformed(field: "line 1, column 1", offset: 0, message: "'0x10' is not a number") {
            try load("0x10,1\n")
        }
        DataFixtures.expectMalformed(field: "line 2, column 2", offset: 8, message: "is not a number") {
            try load("1,2,0\n3,,1\n")
        }
        DataFixtures.expectMalformed(field: "line 1, column 1", offset: 0, message: "is not a number") {
            try load("nan,1,1\n")
        }
        DataFixtures.expectMalformed(field: "line 1, column 2", offset: 2, message: "not a finite Float") {
            try load("1,1e300,1\n")
        }
    }

    @Test func badLabelsAreErrors() {
        DataFixtures.expectMalformed(field: "line 2, column 3 (label)", offset: 10, message: "label -1 is out of range") {
            try load("1,2,0\n3,4,-1\n")
        }
        DataFixtures.expectMalformed(field: "line 1, column 2 (label)", offset: 2, message: "'1.5' is not a whole number") {
            try load("1,1.5\n")
        }
        DataFixtures.expectMalformed(field: "line 1, column 2 (label)", offset: 2, message: "out of range 0...65535") {
            try load("1,70000\n")
        }
    }

    @Test func emptyAndSingleColumnFilesAreErrors() {
        DataFixtures.expectMalformed(field: "line 1", offset: 0, message: "no samples") { try load("") }
        DataFixtures.expectMalformed(field: "line 1", offset: 0, message: "no samples") { try load("x,y\n") }
        DataFixtures.expectMalformed(field: "line 1", offset: 0, message: "at least 2 columns") { try load("1\n2\n") }
    }
}
