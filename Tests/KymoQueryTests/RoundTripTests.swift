import KymoCore
import Testing
@testable import KymoQuery

/// Random ASTs from a counter-based generator: print → parse gives the same AST back.
struct ASTGenerator {
    var rng: CounterRNG

    mutating func int(_ bound: Int) -> Int { Int(rng.next(below: UInt64(bound))) }
    mutating func bool() -> Bool { int(2) == 0 }
    mutating func pick<T>(_ values: [T]) -> T { values[int(values.count)] }
    mutating func maybe<T>(_ make: (inout ASTGenerator) -> T) -> T? { bool() ? make(&self) : nil }

    mutating func name() -> String {
        pick(["fc1", "fc2", "conv_1", "a", "B7", "seed-1", "lr 0.5", "loss", "Top", "x\"y", "encoder.fc1", ""])
    }

    mutating func number() -> Double {
        switch int(6) {
        case 0: return Double(int(1000))
        case 1: return Double(int(1000)) / 1000
        case 2: return pick([1e-3, 1e-4, 2.5e-7, 1.5e20, 0.1, 123.456])
        case 3: return -Double(int(100)) / 8
        case 4: return rng.nextDouble() * pick([1, 1e-6, 1e6])
        default: return Double(int(100)) * 1e15
        }
    }

    mutating func literal() -> Literal { bool() ? .number(number()) : .percent(number()) }
    mutating func count() -> Int { pick([0, 1, 5, 10, 1000, Int.max]) }

    mutating func selector() -> Located<WeightSelector> {
        let parameter: WeightSelector.Parameter? = pick([nil, .weight, .bias])
        var indices: [WeightSelector.Index]?
        if parameter != nil, bool() {
            indices = (0..<(1 + int(3))).map { _ in
                switch int(3) {
                case 0: return .at(int(1000))
                case 1: return .range(int(10), int(1000))
                default: return .all
                }
            }
        }
        return Located(WeightSelector(layer: name(), parameter: parameter, indices: indices))
    }

    mutating func quantity() -> Quantity { pick(Quantity.allCases) }
    mutating func unit() -> KymoQuery.Unit { pick(KymoQuery.Unit.allCases) }

    mutating func measure() -> Measure {
        switch int(3) {
        case 0: return .quantity(quantity())
        case 1: return .aggregate(pick(AggregateFunction.allCases), quantity())
        default: return .count(unit())
        }
    }

    mutating func comparison() -> Comparison {
        Comparison(quantity(), pick(ComparisonOperator.allCases), literal())
    }

    mutating func predicate(depth: Int = 0) -> Predicate {
        if depth > 3 || int(3) == 0 { return .comparison(comparison()) }
        switch int(3) {
        case 0: return .not(predicate(depth: depth + 1))
        case 1: return .and(predicate(depth: depth + 1), predicate(depth: depth + 1))
        default: return .or(predicate(depth: depth + 1), predicate(depth: depth + 1))
        }
    }

    mutating func span() -> Span {
        switch int(6) {
        case 0: return .epoch(int(10))
        case 1: return .epochs(int(10), int(10))
        case 2: return .step(int(10000))
        case 3: return .steps(int(10000), int(10000))
        case 4: return .atStep(int(10000))
        default: return .atEpoch(int(10))
        }
    }

    mutating func target() -> Target {
        bool() ? .weights(selector()) : .each(unit(), selector())
    }

    mutating func runs() -> [Located<String>] { (0..<(1 + int(3))).map { _ in Located(name()) } }

    mutating func clauses(_ allowed: Set<ClauseKind>) -> Clauses {
        var c = Clauses()
        for kind in ClauseKind.allCases where allowed.contains(kind) && bool() {
            switch kind {
            case .span: c.span = Located(span())
            case .every: c.every = Located(count())
            case .until: c.until = bool() ? .zero : .comparison(comparison())
            case .over: c.over = unit()
            case .per: c.per = unit()
            case .grouping: c.grouping = bool() ? .group(unit()) : .clusters(Located(count()))
            case .filter: c.filter = predicate()
            case .runs: c.runs = runs()
            case .accuracy: c.accuracy = bool() ? .exact : .within(literal(), confidence: maybe { $0.literal() })
            }
        }
        return c
    }

    mutating func query() -> Query {
        let direction: RankDirection = pick(RankDirection.allCases)
        switch int(5) {
        case 0:
            return .topSamples(TopSamples(ranking: Ranking(direction, count(), by: measure()),
                                          target: maybe { $0.target() }, clauses: clauses(Parser.topSamplesClauses)))
        case 1:
            return .topWeights(TopWeights(ranking: Ranking(direction, count(), by: measure()),
                                          selection: maybe { $0.selector() }, clauses: clauses(Parser.topWeightsClauses)))
        case 2:
            let event: Event = bool()
                ? .fraction(comparison(), of: maybe { $0.selector() }, exceeds: literal())
                : .condition(comparison())
            return .lastSamples(LastSamples(count: count(), event: event, clauses: clauses(Parser.lastSamplesClauses)))
        case 3:
            return .compare(CompareRuns(runs: runs(), measures: (0..<(1 + int(3))).map { _ in measure() },
                                        clauses: clauses(Parser.compareClauses)))
        default:
            return .select(Select(measures: (0..<(1 + int(3))).map { _ in measure() }, target: maybe { $0.target() },
                                  clauses: clauses(Parser.selectClauses)))
        }
    }
}

@Suite struct RoundTripTests {
    @Test func generatedASTsRoundTrip() throws {
        var generator = ASTGenerator(rng: CounterRNG(key: 0x6B79_6D6F))
        var kinds: Set<String> = []
        for _ in 0..<3000 {
            let ast = generator.query()
            let text = QueryPrinter.print(ast)
            let parsed: Query
            do {
                parsed = try Parser.parse(text)
            } catch {
                Issue.record("printed AST does not parse:\n\(error.rendered(in: text))")
                return
            }
            #expect(parsed == ast, "\(text)")
            #expect(QueryPrinter.print(parsed) == text)
            kinds.insert(String(text.prefix { $0 != " " }))
        }
        #expect(kinds.count == 5)
    }

    @Test func printingIsCanonical() throws {
        // Different spellings of the same question print the same text.
        let spellings = [
            "top 5 samples by abs contribution for each weight in fc1.weight[12,*] in epoch 3 from run a",
            "TOP 5 SAMPLES BY ABS CONTRIBUTION FOR EACH WEIGHTS IN fc1[12, *] FROM RUNS a IN EPOCHS 3",
            "Top 5 Samples By Abs Contribution For Each Weight In fc1[12,*] -- comment\n From Run 'a' In Epoch 3;",
        ]
        let printed = try spellings.map { QueryPrinter.print(try Parser.parse($0)) }
        #expect(Set(printed).count == 1)
        #expect(printed[0] == "TOP 5 SAMPLES BY ABS CONTRIBUTION FOR EACH WEIGHT IN fc1[12,*] IN EPOCH 3 FROM RUN a")
    }

    @Test func predicateParenthesesFollowTheTree() throws {
        let c = { (v: Double) in Predicate.comparison(Comparison(.loss, .greater, .number(v))) }
        let cases: [(Predicate, String)] = [
            (.and(c(1), .and(c(2), c(3))), "LOSS > 1 AND (LOSS > 2 AND LOSS > 3)"),
            (.and(.and(c(1), c(2)), c(3)), "LOSS > 1 AND LOSS > 2 AND LOSS > 3"),
            (.not(.or(c(1), c(2))), "NOT (LOSS > 1 OR LOSS > 2)"),
            (.or(c(1), .and(c(2), .not(c(3)))), "LOSS > 1 OR LOSS > 2 AND NOT LOSS > 3"),
            (.and(.or(c(1), c(2)), c(3)), "(LOSS > 1 OR LOSS > 2) AND LOSS > 3"),
        ]
        for (predicate, text) in cases {
            let query = Query.select(Select(measures: [.count(.sample)], clauses: Clauses(filter: predicate)))
            #expect(QueryPrinter.print(query) == "SELECT COUNT SAMPLES WHERE " + text)
            #expect(try Parser.parse(QueryPrinter.print(query)) == query)
        }
    }
}
