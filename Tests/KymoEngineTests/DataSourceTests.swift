import Testing
import KymoTestSupport
@testable import KymoEngine

@Suite struct DataSourceTests {
    @Test(arguments: [
        ("digits", DataSource.digits),
        ("synthetic", DataSource.synthetic(count: 100_000, featureCount: 784, classCount: 10)),
        ("synthetic:5000", DataSource.synthetic(count: 5000, featureCount: 784, classCount: 10)),
        ("synthetic:5_000:32", DataSource.synthetic(count: 5000, featureCount: 32, classCount: 10)),
        ("synthetic:10:3:2", DataSource.synthetic(count: 10, featureCount: 3, classCount: 2)),
        ("idx:/data/mnist", DataSource.idx(directory: "/data/mnist")),
        ("csv:/tmp/a.csv", DataSource.csv(path: "/tmp/a.csv")),
        (" npy:x.npy,y.npy ", DataSource.npy(features: "x.npy", labels: "y.npy")),
    ])
    func parsesEveryForm(text: String, expected: DataSource) throws {
        let source = try DataSource(parsing: text)
        #expect(source == expected)
        #expect(try DataSource(parsing: source.description) == source)
    }

    @Test func descriptionIsCanonical() {
        #expect(DataSource.synthetic(count: 100_000, featureCount: 784, classCount: 10).description == "synthetic:100000:784:10")
        #expect(DataSource.npy(features: "a", labels: "b").description == "npy:a,b")
        #expect(DataSource.digits.description == "digits")
    }

    @Test(arguments: ["", "synthetic:", "synthetic:ten", "synthetic:10:0", "synthetic:10:5:1", "synthetic:1:2:3:4",
                      "synthetic:-5", "npy:onlyone.npy", "npy:a,b,c", "csv:", "idx:", "/no/such/path/anywhere"])
    func rejectsBadText(text: String) {
        #expect(throws: EngineError.self) { try DataSource(parsing: text) }
    }

    @Test func guessesTheFormatOfPlainPaths() throws {
        let directory = try TemporaryDirectory()
        try DataFixtures.write("1,0\n", to: directory.file("data.csv"))
        #expect(try DataSource(parsing: directory.file("data.csv")) == .csv(path: directory.file("data.csv")))
        try DataFixtures.write([0x1f, 0x8b], to: directory.file("data.CSV.gz"))
        #expect(try DataSource(parsing: directory.file("data.CSV.gz")) == .csv(path: directory.file("data.CSV.gz")))
        #expect(throws: EngineError.self) { try DataSource(parsing: directory.path) }

        let mnist = try SharedData.path("mnist")
        #expect(try DataSource(parsing: mnist) == .idx(directory: mnist))

        try DataFixtures.write([], to: directory.file("features.npy"))
        try DataFixtures.write([], to: directory.file("labels.npy"))
        #expect(try DataSource(parsing: directory.path)
                == .npy(features: directory.file("features.npy"), labels: directory.file("labels.npy")))
        #expect(throws: EngineError.self) { try DataSource(parsing: directory.file("features.npy")) }
    }

    @Test func errorsReadWell() {
        let error = EngineError.malformedData(source: "x.csv", field: "line 3", offset: 12, message: "ragged row")
        #expect(error.description == "x.csv: malformed data at offset 12, field 'line 3': ragged row")
    }
}
