import Testing
@testable import KymoQuery

/// Every statement form runs on a fully recorded run: supported forms answer, the others fail with
/// a QueryError that says what is not supported — nothing crashes.
@Suite struct ExecutorCoverageTests {
    let executor = Executor(runs: ExactRunFixture.runs)

    static let answered = [
        "TOP 10 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[2,5] IN EPOCH 3",
        "TOP 5 SAMPLES BY ABS CONTRIBUTION FOR EACH WEIGHT IN fc2[1,*] IN EPOCH 1",
        "TOP 4 SAMPLES BY ABS CONTRIBUTION FOR WEIGHTS fc1[3,*] IN EPOCH 2",
        "TOP 3 SAMPLES BY ABS CONTRIBUTION FOR EACH NEURON IN fc2 IN EPOCH 2",
        "BOTTOM 10 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1.bias[3] IN EPOCH 3 WITHIN 1e-1",
        "TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT fc2[3,7] IN EPOCHS 2..3",
        "TOP 5 SAMPLES BY ABS CONTRIBUTION FOR WEIGHT fc2[1,7] IN EPOCHS 2..3 UNTIL ABS VALUE <= 1e-2",
        "TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[0,0] IN STEPS 10..20 WITHIN 5%",
        "TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[0,0] IN STEPS 10..20 EXACT",
        "TOP 3 SAMPLES BY LOSS",
        "BOTTOM 3 SAMPLES BY GRADIENT NORM IN EPOCH 1",
        "TOP 20 WEIGHTS BY SUM ABS DELTA",
        "TOP 20 WEIGHTS IN fc1 BY NET DELTA IN EPOCHS 1..3",
        "BOTTOM 5 WEIGHTS BY SUM DELTA",
        "TOP 20 WEIGHTS BY SUM SQUARED GRADIENT",
        "TOP 20 WEIGHTS BY SUM ABS DELTA GROUP BY NEURON",
        "TOP 3 WEIGHTS BY SUM ABS DELTA GROUP BY LAYER",
        "TOP 50 WEIGHTS BY SUM ABS DELTA CLUSTER 4 BY TRAJECTORY",
        "COMPARE RUNS a, b AT STEP 50 SHOW LOSS, PROBE ACCURACY, WEIGHT DISTANCE",
        "COMPARE RUNS a, b IN STEPS 10..100 EVERY 10 SHOW LOSS, PROBE LOSS, WEIGHT DISTANCE",
        "COMPARE RUNS a, b AT EPOCH 2 SHOW PROBE LOSS, WEIGHT DISTANCE EXACT",
        "LAST 8 SAMPLES BEFORE FRACTION ABS GRADIENT > 1e-3 EXCEEDS 10%",
        "LAST 16 SAMPLES BEFORE FRACTION ABS GRADIENT >= 0.01 EXCEEDS 2.5% IN EPOCH 2",
        "LAST 16 SAMPLES BEFORE FRACTION ABS GRADIENT >= 0.01 IN fc2 EXCEEDS 2.5% IN EPOCH 2",
        "LAST 4 SAMPLES BEFORE LOSS > 5 FROM RUN b",
        "LAST 4 SAMPLES BEFORE LOSS < 1 WHERE LABEL = 2",
        "TOP 5 SAMPLES BY CONTRIBUTION FOR WEIGHT fc2[3,7] UNTIL ZERO",
        "SELECT MEAN LOSS PER EPOCH",
        "SELECT MEAN LOSS, MAX LOSS PER EPOCH IN EPOCHS 1..3",
        "SELECT VALUE FOR WEIGHT fc1[1,4] IN STEPS 1..10 WITHIN 5%",
        "SELECT MIN VALUE, MAX VALUE FOR WEIGHT fc1.bias[0] WITHIN 0.001 CONFIDENCE 99%",
        "SELECT SUM ABS DELTA FOR EACH NEURON IN fc1 IN EPOCH 1",
        "SELECT SUM LEARNING RATE, MEAN GRADIENT NORM PER STEP IN STEPS 3..5",
        "SELECT COUNT SAMPLES WHERE LOSS > 2 AND NOT (CORRECT = 1 OR LABEL = 3) IN EPOCH 3",
        "SELECT MEAN LOSS, MAX LOSS OVER SAMPLES PER EPOCH IN EPOCHS 1..3 WHERE LABEL = 2",
    ]

    static let refused = [
        "COMPARE RUNS a, b AT STEP 5000 SHOW LOSS",
        "SELECT MEAN PROBE ACCURACY OVER RUNS AT STEP 50 FROM RUNS a, b",
        "TOP 20 WEIGHTS BY SUM ABS DELTA IN STEPS 3..9",
        "TOP 3 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[0,0] IN EPOCH 9",
        "TOP 3 SAMPLES BY CONTRIBUTION FOR WEIGHTS fc1[0,*] UNTIL ZERO",
        "TOP 3 SAMPLES BY CONTRIBUTION FOR WEIGHT fc1[0,0] IN EPOCH 1 WHERE LOSS > 1",
        "SELECT COUNT SAMPLES WHERE VALUE > 1",
    ]

    @Test(arguments: answered) func answers(_ text: String) throws {
        let execution = try executor.execute(try Parser.parse(text))
        #expect(!execution.plans.isEmpty)
        for row in execution.answer.rows {
            #expect(row.count == execution.answer.columns.count)
            for cell in row {
                if case .estimate(let e) = cell { #expect(e.lower <= e.value && e.value <= e.upper && e.confidence > 0 && e.confidence <= 1) }
            }
        }
        _ = AnswerRenderer.table(execution.answer)
        _ = execution.plans.map { $0.explained() }
    }

    @Test(arguments: refused) func refuses(_ text: String) throws {
        #expect(throws: QueryError.self) { try executor.execute(try Parser.parse(text)) }
    }
}
