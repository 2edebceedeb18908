import Testing
@testable import KymoQuery

@Suite struct CheckerTests {
    private func problems(_ text: String, _ catalog: (any QueryCatalog)? = FakeCatalog()) throws -> [String] {
        QueryChecker.problems(in: try Parser.parse(text), catalog: catalog).map(\.message)
    }

    @Test func validQueriesHaveNoProblems() throws {
        #expect(try problems("TOP 10 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[511,783] IN EPOCH 3").isEmpty)
        #expect(try problems("TOP 10 SAMPLES BY ABS CONTRIBUTION FOR EACH NEURON IN fc2[0..255,*] IN STEPS 1..4690").isEmpty)
        #expect(try problems("SELECT VALUE FOR WEIGHT fc2.bias[255] AT STEP 0").isEmpty)
        #expect(try problems("COMPARE RUNS \"seed-1\", \"seed-2\" AT STEP 4690 SHOW LOSS").isEmpty)
    }

    @Test func withoutACatalogOnlyCatalogFreeChecksRun() throws {
        #expect(try problems("TOP 10 SAMPLES BY CONTRIBUTION FOR WEIGHT nosuch[99999,0] FROM RUN zz", nil).isEmpty)
        #expect(try problems("TOP 0 SAMPLES BY LOSS IN STEPS 5..4", nil)
                == ["TOP needs at least 1 sample", "step range 5..4 ends before it starts"])
    }

    @Test func boundsAreInclusiveOfTheLastIndexAndStep() throws {
        #expect(try problems("SELECT VALUE FOR WEIGHT fc1[512,0]") == ["weight fc1[512,0]: row 512 is out of range: fc1 has 512 rows (0..511)"])
        #expect(try problems("SELECT VALUE FOR WEIGHT fc1[0,784]") == ["weight fc1[0,784]: column 784 is out of range: fc1 has 784 columns (0..783)"])
        #expect(try problems("SELECT MEAN LOSS IN EPOCH 4") == ["run 'a' has 3 epochs; epoch 4 is past its end"])
        #expect(try problems("SELECT MEAN LOSS IN EPOCH 3").isEmpty)
        #expect(try problems("SELECT MEAN LOSS IN STEP 0") == ["steps count from 1"])
    }

    @Test func spansAreCheckedAgainstEveryNamedRun() throws {
        var catalog = FakeCatalog()
        catalog.steps = 100
        #expect(try problems("COMPARE RUNS a, b AT STEP 101 SHOW LOSS", catalog) == [
            "run 'a' has 100 steps; step 101 is past its end",
            "run 'b' has 100 steps; step 101 is past its end",
        ])
        catalog.defaultRun = nil
        #expect(try problems("SELECT LOSS AT STEP 101", catalog).isEmpty)
    }

    @Test func runsAndTolerances() throws {
        #expect(try problems("SELECT LOSS FROM RUNS a, a") == ["run 'a' is named twice"])
        #expect(try problems("SELECT LOSS FROM RUN A") == ["unknown run 'A'; did you mean 'a'?"])
        #expect(try problems("SELECT LOSS WITHIN 5% CONFIDENCE 100%")
                == ["CONFIDENCE must lie strictly between 0 and 1 (0% and 100%)"])
        #expect(try problems("SELECT LOSS WITHIN 0.5 CONFIDENCE 0.99").isEmpty)
        #expect(try problems("LAST 3 SAMPLES BEFORE FRACTION ABS GRADIENT > 0 EXCEEDS 120%")
                == ["EXCEEDS takes a fraction between 0% and 100%"])
    }

    @Test func frontEndInOneCall() throws {
        let query = try Query("top 3 samples by loss in epoch 1", catalog: FakeCatalog())
        #expect(query == (try Parser.parse("TOP 3 SAMPLES BY LOSS IN EPOCH 1")))
        let error = #expect(throws: QueryError.self) {
            try Query("TOP 3 SAMPLES BY LOSS IN EPOCH 9", catalog: FakeCatalog())
        }
        #expect(error?.message == "run 'a' has 3 epochs; epoch 9 is past its end")
        #expect(error?.location?.start.column == 23)
    }

    @Test func groupingAndTargets() throws {
        #expect(try problems("TOP 3 WEIGHTS BY SUM ABS DELTA GROUP BY STEP") == ["weights group BY LAYER or BY NEURON, not BY STEP"])
        #expect(try problems("TOP 3 WEIGHTS BY SUM ABS DELTA CLUSTER 0 BY TRAJECTORY") == ["CLUSTER needs at least 1 cluster"])
        #expect(try problems("TOP 3 SAMPLES BY CONTRIBUTION FOR EACH RUN IN fc1") == ["FOR EACH takes WEIGHT, NEURON or LAYER, not RUN"])
    }
}
