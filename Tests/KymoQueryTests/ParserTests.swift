import Testing
@testable import KymoQuery

/// Builders that keep expected ASTs short.
func sel(_ layer: String, _ indices: [WeightSelector.Index]? = nil,
         _ parameter: WeightSelector.Parameter? = .weight) -> Located<WeightSelector> {
    Located(WeightSelector(layer: layer, parameter: parameter, indices: indices))
}

func names(_ list: String...) -> [Located<String>] { list.map { Located($0) } }

@Suite struct ParserTests {
    @Test func question1OneWeight() throws {
        let query = try Parser.parse("TOP 10 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[12,40] IN EPOCH 3")
        #expect(query == .topSamples(TopSamples(
            ranking: Ranking(.top, 10, by: .quantity(.contribution)),
            target: .weights(sel("fc1", [.at(12), .at(40)])),
            clauses: Clauses(span: Located(.epoch(3))))))
    }

    @Test func question1EachWeightOfANeuron() throws {
        let query = try Parser.parse("top 5 samples by abs contribution for each weight in fc1[12,*] in epoch 3")
        #expect(query == .topSamples(TopSamples(
            ranking: Ranking(.top, 5, by: .quantity(.absContribution)),
            target: .each(.weight, sel("fc1", [.at(12), .all])),
            clauses: Clauses(span: Located(.epoch(3))))))
    }

    @Test func question2Grouped() throws {
        #expect(try Parser.parse("TOP 20 WEIGHTS BY SUM ABS DELTA GROUP BY NEURON") == .topWeights(TopWeights(
            ranking: Ranking(.top, 20, by: .aggregate(.sum, .absDelta)),
            clauses: Clauses(grouping: .group(.neuron)))))
        #expect(try Parser.parse("TOP 20 WEIGHTS IN fc1 BY NET DELTA CLUSTER 8 BY TRAJECTORY") == .topWeights(TopWeights(
            ranking: Ranking(.top, 20, by: .aggregate(.sum, .delta)),
            selection: sel("fc1", nil, nil),
            clauses: Clauses(grouping: .clusters(Located(8))))))
    }

    @Test func question3Compare() throws {
        let query = try Parser.parse("COMPARE RUNS a, b AT STEP 500 SHOW LOSS, PROBE ACCURACY, WEIGHT DISTANCE")
        #expect(query == .compare(CompareRuns(
            runs: names("a", "b"),
            measures: [.quantity(.loss), .quantity(.probeAccuracy), .quantity(.weightDistance)],
            clauses: Clauses(span: Located(.atStep(500))))))
        // SHOW first, span after: same AST.
        #expect(try Parser.parse("COMPARE RUNS a, b SHOW LOSS, PROBE ACCURACY, WEIGHT DISTANCE AT STEP 500") == query)
    }

    @Test func question4Fraction() throws {
        let query = try Parser.parse("LAST 8 SAMPLES BEFORE FRACTION ABS GRADIENT > 1e-3 EXCEEDS 10%")
        #expect(query == .lastSamples(LastSamples(
            count: 8, event: .fraction(Comparison(.absGradient, .greater, .number(0.001)), of: nil, exceeds: .percent(10)))))
    }

    @Test func question5UntilZeroAndEpsilon() throws {
        #expect(try Parser.parse("TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT fc2[3,7] UNTIL ZERO") == .topSamples(TopSamples(
            ranking: Ranking(.top, 5, by: .quantity(.contribution)),
            target: .weights(sel("fc2", [.at(3), .at(7)])),
            clauses: Clauses(until: .zero))))
        #expect(try Parser.parse("TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT fc2[3,7] UNTIL ABS VALUE <= 1e-4") == .topSamples(TopSamples(
            ranking: Ranking(.top, 5, by: .quantity(.contribution)),
            target: .weights(sel("fc2", [.at(3), .at(7)])),
            clauses: Clauses(until: .comparison(Comparison(.absValue, .lessOrEqual, .number(0.0001)))))))
    }

    @Test func selectors() throws {
        func selector(_ text: String) throws -> WeightSelector? {
            guard case .select(let q) = try Parser.parse("SELECT VALUE FOR WEIGHTS \(text)"),
                  case .weights(let s) = q.target else { return nil }
            return s.value
        }
        #expect(try selector("fc1[12,40]") == WeightSelector(layer: "fc1", parameter: .weight, indices: [.at(12), .at(40)]))
        #expect(try selector("fc1.weight[12,40]") == WeightSelector(layer: "fc1", parameter: .weight, indices: [.at(12), .at(40)]))
        #expect(try selector("fc1.bias[3]") == WeightSelector(layer: "fc1", parameter: .bias, indices: [.at(3)]))
        #expect(try selector("fc1[*,3]") == WeightSelector(layer: "fc1", parameter: .weight, indices: [.all, .at(3)]))
        #expect(try selector("fc1[0..9,*]") == WeightSelector(layer: "fc1", parameter: .weight, indices: [.range(0, 9), .all]))
        #expect(try selector("fc1") == WeightSelector(layer: "fc1", parameter: nil, indices: nil))
        #expect(try selector("fc1.bias") == WeightSelector(layer: "fc1", parameter: .bias, indices: nil))
        #expect(try selector("\"encoder.fc1\"[1,2]") == WeightSelector(layer: "encoder.fc1", parameter: .weight, indices: [.at(1), .at(2)]))
    }

    @Test func spans() throws {
        func span(_ text: String) throws -> Span? {
            try Parser.parse("SELECT MEAN LOSS \(text)").clauses.span?.value
        }
        #expect(try span("IN EPOCH 3") == .epoch(3))
        #expect(try span("IN EPOCHS 1..3") == .epochs(1, 3))
        #expect(try span("IN EPOCH 1..3") == .epochs(1, 3))
        #expect(try span("IN STEPS 100..200") == .steps(100, 200))
        #expect(try span("IN STEP 7") == .step(7))
        #expect(try span("AT STEP 500") == .atStep(500))
        #expect(try span("AT EPOCH 2") == .atEpoch(2))
    }

    @Test func clausesInAnyOrderGiveTheSameAST() throws {
        let a = try Parser.parse("SELECT MEAN LOSS PER EPOCH IN EPOCHS 1..3 WHERE LABEL = 7 FROM RUN b WITHIN 5%")
        let b = try Parser.parse("select mean loss within 5% from run b where label = 7 in epochs 1..3 per epoch;")
        #expect(a == b)
        #expect(a.clauses.runs == names("b"))
        #expect(a.clauses.accuracy == .within(.percent(5), confidence: nil))
    }

    @Test func predicatePrecedence() throws {
        let query = try Parser.parse("SELECT COUNT SAMPLES WHERE LOSS > 2 OR NOT LABEL = 3 AND CORRECT = 1")
        let loss = Predicate.comparison(Comparison(.loss, .greater, .number(2)))
        let label = Predicate.comparison(Comparison(.label, .equal, .number(3)))
        let correct = Predicate.comparison(Comparison(.correct, .equal, .number(1)))
        #expect(query.clauses.filter == .or(loss, .and(.not(label), correct)))
        let grouped = try Parser.parse("SELECT COUNT SAMPLES WHERE (LOSS > 2 OR NOT LABEL = 3) AND CORRECT = 1")
        #expect(grouped.clauses.filter == .and(.or(loss, .not(label)), correct))
    }

    @Test func negativeNumbersAndAccuracy() throws {
        let query = try Parser.parse("SELECT COUNT STEPS WHERE DELTA < -0.5 WITHIN 0.01 CONFIDENCE 99%")
        #expect(query.clauses.filter == .comparison(Comparison(.delta, .less, .number(-0.5))))
        #expect(query.clauses.accuracy == .within(.number(0.01), confidence: .percent(99)))
        #expect(try Parser.parse("SELECT LOSS EXACT").clauses.accuracy == .exact)
    }

    @Test func sourceRangesAreKeptButIgnoredByEquality() throws {
        guard case .topSamples(let q) = try Parser.parse("TOP 10 SAMPLES BY LOSS FOR WEIGHT fc1[1,2] FROM RUN abc"),
              case .weights(let s) = q.target else {
            Issue.record("wrong statement")
            return
        }
        #expect(s.range?.start.column == 35)
        #expect(s.range?.end.column == 43)
        #expect(q.clauses.runs?.first?.range?.start.column == 53)
        #expect(q.ranking.count.range?.start.column == 5)
    }

    @Test func canonicalText() throws {
        let query = try Parser.parse("top 5 samples by abs contribution for each weight in fc1.weight[12, *] in epochs 2..3 where label=7 from run 'x y'")
        #expect(query.description
                == "TOP 5 SAMPLES BY ABS CONTRIBUTION FOR EACH WEIGHT IN fc1[12,*] IN EPOCHS 2..3 WHERE LABEL = 7 FROM RUN \"x y\"")
        #expect(try Parser.parse("TOP 3 WEIGHTS BY NET DELTA").description == "TOP 3 WEIGHTS BY SUM DELTA")
        #expect(try Parser.parse("COMPARE RUNS a, b SHOW LOSS EVERY 10 IN STEPS 1..100").description
                == "COMPARE RUNS a, b IN STEPS 1..100 EVERY 10 SHOW LOSS")
        #expect(try Parser.parse("SELECT LOSS FROM RUN \"loss\"").description == "SELECT LOSS FROM RUN \"loss\"")
    }
}
