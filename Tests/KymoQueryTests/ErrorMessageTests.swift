import Testing
@testable import KymoQuery

/// Exact error text, caret included, for the mistakes people make.
@Suite struct ErrorMessageTests {
    private func rendered(_ source: String, catalog: (any QueryCatalog)? = nil) -> String {
        do {
            let query = try Parser.parse(source)
            try QueryChecker.check(query, catalog: catalog)
            return "no error"
        } catch {
            return error.rendered(in: source)
        }
    }

    @Test func missingNumberAfterTop() {
        #expect(rendered("TOP ten SAMPLES BY LOSS") == """
            error: expected a number after TOP, found name 'ten'
              TOP ten SAMPLES BY LOSS
                  ^~~
            """)
    }

    @Test func misspeltKeywordGetsASuggestion() {
        #expect(rendered("SELCT MEAN LOSS") == """
            error: expected TOP, BOTTOM, LAST, COMPARE or SELECT at the start of a query, found name 'SELCT'; did you mean SELECT?
              SELCT MEAN LOSS
              ^~~~~
            """)
        #expect(rendered("TOP 5 SAMPLES BY LOSS IN EPOCH 3 WHERE LABLE = 3") == """
            error: expected a quantity (LOSS, CONTRIBUTION, ABS DELTA, …), found name 'LABLE'; did you mean LABEL?
              TOP 5 SAMPLES BY LOSS IN EPOCH 3 WHERE LABLE = 3
                                                     ^~~~~
            """)
    }

    @Test func trailingGarbageListsTheClausesThatCouldFollow() {
        #expect(rendered("TOP 5 SAMPLES BY LOSS IN EPOCH 3 ORDER BY LOSS") == """
            error: expected UNTIL, WHERE, FROM, WITHIN, EXACT or end of query, found name 'ORDER'
              TOP 5 SAMPLES BY LOSS IN EPOCH 3 ORDER BY LOSS
                                               ^~~~~
            """)
    }

    @Test func suggestionsComeFromWhatCouldFollow() {
        #expect(rendered("SELECT MEAN LOSS PER EPOCH FORM RUN b") == """
            error: expected IN, AT, UNTIL, OVER, WHERE, FROM, WITHIN, EXACT or end of query, found name 'FORM'; did you mean FROM?
              SELECT MEAN LOSS PER EPOCH FORM RUN b
                                         ^~~~
            """)
    }

    @Test func selectorWhereASpanBelongs() {
        #expect(rendered("TOP 20 WEIGHTS BY SUM ABS DELTA IN fc1") == """
            error: expected EPOCH, EPOCHS, STEP or STEPS after IN, found name 'fc1'; weights are chosen with FOR WEIGHT …, FOR EACH WEIGHT IN …, or TOP k WEIGHTS IN … BY …
              TOP 20 WEIGHTS BY SUM ABS DELTA IN fc1
                                                 ^~~
            """)
        #expect(rendered("SELECT LOSS IN EPOHC 3") == """
            error: expected EPOCH, EPOCHS, STEP or STEPS after IN, found name 'EPOHC'; did you mean EPOCH?
              SELECT LOSS IN EPOHC 3
                             ^~~~~
            """)
    }

    @Test func selectorWithoutWeightKeyword() {
        #expect(rendered("TOP 10 SAMPLES BY CONTRIBUTION FOR fc1[1,2]") == """
            error: expected WEIGHT, WEIGHTS or EACH after FOR, found name 'fc1'; write FOR WEIGHT fc1… or FOR EACH WEIGHT IN fc1…
              TOP 10 SAMPLES BY CONTRIBUTION FOR fc1[1,2]
                                                 ^~~
            """)
    }

    @Test func endOfQuery() {
        #expect(rendered("TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[12,") == """
            error: expected an index (a number, a range a..b, or *), found end of query
              TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[12,
                                                              ^
            """)
    }

    @Test func clauseNotAllowedOrRepeated() {
        #expect(rendered("COMPARE RUNS a, b WHERE LOSS > 1 SHOW LOSS") == """
            error: WHERE is not allowed in a COMPARE query
              COMPARE RUNS a, b WHERE LOSS > 1 SHOW LOSS
                                ^~~~~
            """)
        #expect(rendered("SELECT LOSS IN EPOCH 1 IN EPOCH 2") == """
            error: IN/AT is given twice
              SELECT LOSS IN EPOCH 1 IN EPOCH 2
                                     ^~
            """)
    }

    @Test func keywordUsedAsName() {
        #expect(rendered("SELECT LOSS FROM RUN loss") == """
            error: expected a run name, found keyword LOSS (quote a name that is a keyword: "loss")
              SELECT LOSS FROM RUN loss
                                   ^~~~
            """)
    }

    @Test func wholeNumberWanted() {
        #expect(rendered("LAST 2.5 SAMPLES BEFORE LOSS > 1") == """
            error: expected a whole number after LAST, found 2.5
              LAST 2.5 SAMPLES BEFORE LOSS > 1
                   ^~~
            """)
    }

    @Test func lexicalErrorOnASecondLine() {
        #expect(rendered("SELECT MEAN LOSS\n  FROM RUN \"unterminated") == """
            error: unterminated string: missing closing "
                FROM RUN "unterminated
                         ^~~~~~~~~~~~~
            """)
    }

    @Test func unknownRunAndLayerAreNamed() {
        let catalog = FakeCatalog()
        #expect(rendered("COMPARE RUNS a, seed2 AT STEP 5 SHOW LOSS", catalog: catalog) == """
            error: unknown run 'seed2'; did you mean 'seed-2'?
              COMPARE RUNS a, seed2 AT STEP 5 SHOW LOSS
                              ^~~~~
            """)
        #expect(rendered("TOP 5 WEIGHTS IN fc4 BY SUM ABS DELTA", catalog: catalog) == """
            error: unknown layer 'fc4'; did you mean 'fc1'?
              TOP 5 WEIGHTS IN fc4 BY SUM ABS DELTA
                               ^~~
            """)
        #expect(rendered("TOP 5 WEIGHTS IN output BY SUM ABS DELTA", catalog: catalog) == """
            error: unknown layer 'output'
              TOP 5 WEIGHTS IN output BY SUM ABS DELTA
                               ^~~~~~
            """)
    }

    @Test func weightsOutsideTheirLayer() {
        let catalog = FakeCatalog()
        #expect(rendered("SELECT VALUE FOR WEIGHT fc3.bias[2]", catalog: catalog) == """
            error: weight fc3.bias[2]: layer fc3 has no bias
              SELECT VALUE FOR WEIGHT fc3.bias[2]
                                      ^~~~~~~~~~~
            """)
        #expect(rendered("SELECT VALUE FOR WEIGHT fc2[3]", catalog: catalog) == """
            error: weight fc2[3]: a weight takes 2 indices [row,column], got 1 (shape 256×512)
              SELECT VALUE FOR WEIGHT fc2[3]
                                      ^~~~~~
            """)
        #expect(rendered("SELECT VALUE FOR WEIGHTS fc1[500..512,*]", catalog: catalog) == """
            error: weight fc1[500..512,*]: row range 500..512 is out of range: fc1 has 512 rows (0..511)
              SELECT VALUE FOR WEIGHTS fc1[500..512,*]
                                       ^~~~~~~~~~~~~~~
            """)
    }

    @Test func spansOutsideTheRun() {
        let catalog = FakeCatalog()
        #expect(rendered("SELECT MEAN LOSS IN STEPS 4000..5000", catalog: catalog) == """
            error: run 'a' has 4690 steps; step 5000 is past its end
              SELECT MEAN LOSS IN STEPS 4000..5000
                               ^~~~~~~~~~~~~~~~~~~
            """)
        #expect(rendered("SELECT MEAN LOSS IN EPOCHS 3..1") == """
            error: epoch range 3..1 ends before it starts
              SELECT MEAN LOSS IN EPOCHS 3..1
                               ^~~~~~~~~~~~~~
            """)
    }

    @Test func meaninglessValues() {
        #expect(rendered("TOP 0 SAMPLES BY LOSS") == """
            error: TOP needs at least 1 sample
              TOP 0 SAMPLES BY LOSS
                  ^
            """)
        #expect(rendered("TOP 3 SAMPLES BY CONTRIBUTION IN EPOCH 1") == """
            error: ranking samples by contribution needs FOR WEIGHT … or FOR EACH WEIGHT IN …
              TOP 3 SAMPLES BY CONTRIBUTION IN EPOCH 1
                               ^~~~~~~~~~~~
            """)
        #expect(rendered("COMPARE RUNS a SHOW LOSS") == """
            error: COMPARE needs at least two runs
              COMPARE RUNS a SHOW LOSS
                           ^
            """)
        #expect(rendered("SELECT LOSS WITHIN 0 FROM RUN a") == """
            error: WITHIN needs a tolerance greater than 0
              SELECT LOSS WITHIN 0 FROM RUN a
                          ^~~~~~~~
            """)
        #expect(rendered("TOP 3 WEIGHTS BY SUM DELTA GROUP BY RUN") == """
            error: weights group BY LAYER or BY NEURON, not BY RUN
              TOP 3 WEIGHTS BY SUM DELTA GROUP BY RUN
                                         ^~~~~~~~~~~~
            """)
    }

    @Test func quantitiesThatDoNotFitTheStatement() {
        #expect(rendered("TOP 10 WEIGHTS BY MEAN LOSS") == """
            error: weights are ranked by a per-weight quantity (SUM ABS DELTA, SUM DELTA, SUM SQUARED GRADIENT, …); MEAN LOSS is not one
              TOP 10 WEIGHTS BY MEAN LOSS
                                ^~~~~~~~~
            """)
        #expect(rendered("COMPARE RUNS a, b SHOW LOSS, SUM ABS DELTA") == """
            error: COMPARE shows per-step quantities of each run (LOSS, PROBE ACCURACY, WEIGHT DISTANCE, …); SUM ABS DELTA is not one
              COMPARE RUNS a, b SHOW LOSS, SUM ABS DELTA
                                           ^~~~~~~~~~~~~
            """)
        #expect(rendered("LAST 8 SAMPLES BEFORE FRACTION LOSS > 2 EXCEEDS 10%") == """
            error: FRACTION needs a per-weight quantity; LOSS is not one
              LAST 8 SAMPLES BEFORE FRACTION LOSS > 2 EXCEEDS 10%
                                             ^~~~~~~~
            """)
        #expect(rendered("TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[0,0] UNTIL LABEL = 3") == """
            error: UNTIL needs a per-weight or per-step quantity; LABEL is not one
              TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[0,0] UNTIL LABEL = 3
                                                                      ^~~~~~~~~
            """)
    }

    @Test func allProblemsAreReportedInTextOrder() throws {
        let query = try Parser.parse("COMPARE RUNS zz, fc1 IN STEPS 9000..9001 SHOW LOSS")
        let problems = QueryChecker.problems(in: query, catalog: FakeCatalog())
        #expect(problems.map(\.message) == ["unknown run 'zz'", "unknown run 'fc1'"])
        #expect(problems.count == 2)  // unknown runs have no length to check against
    }

    @Test func descriptionNamesTheLocation() {
        let error = QueryError.syntax(location: SourceRange(start: SourceLocation(offset: 4, line: 1, column: 5),
                                                            end: SourceLocation(offset: 7, line: 1, column: 8)),
                                      message: "expected a number after TOP, found name 'ten'")
        #expect(error.description == "syntax error at 1:5: expected a number after TOP, found name 'ten'")
    }
}
