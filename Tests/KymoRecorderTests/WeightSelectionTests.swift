import Testing
@testable import KymoRecorder

@Suite struct WeightSelectionTests {
    @Test func rateIsDeterministicSortedAndNearTheRate() throws {
        let p = 200_000
        let a = try WeightSelection(rule: .rate(0.01), parameterCount: p, seed: 7)
        let b = try WeightSelection(rule: .rate(0.01), parameterCount: p, seed: 7)
        #expect(a == b)
        #expect(a.ids == a.ids.sorted())
        #expect(Set(a.ids).count == a.ids.count)
        // Binomial(200000, 0.01): mean 2000, sd ≈ 44.5; 5 sd.
        #expect(abs(a.ids.count - 2000) < 223)
        let other = try WeightSelection(rule: .rate(0.01), parameterCount: p, seed: 8)
        #expect(other.ids != a.ids)
    }

    @Test func rateSelectionsNest() throws {
        let small = try WeightSelection(rule: .rate(0.001), parameterCount: 50_000, seed: 3)
        let large = try WeightSelection(rule: .rate(0.01), parameterCount: 50_000, seed: 3)
        #expect(small.ids.allSatisfy { large.contains($0) })
        #expect(large.ids.count > small.ids.count)
    }

    @Test func countIsExactBottomKAndNests() throws {
        let p = 30_000
        let sel = try WeightSelection(rule: .count(100), parameterCount: p, seed: 11)
        #expect(sel.ids.count == 100)
        #expect(sel.ids == sel.ids.sorted())
        // Brute force: the 100 smallest keys.
        let brute = (0..<p).map { (WeightSelection.key(of: $0, seed: 11), $0) }
            .sorted { $0 < $1 }.prefix(100).map(\.1).sorted()
        #expect(sel.ids == brute)
        let bigger = try WeightSelection(rule: .count(300), parameterCount: p, seed: 11)
        #expect(sel.ids.allSatisfy { bigger.contains($0) })
        #expect(!bigger.contains(p))
    }

    @Test func edgeCasesAndErrors() throws {
        #expect(try WeightSelection(rule: .count(50), parameterCount: 10, seed: 1).ids == Array(0..<10))
        #expect(try WeightSelection(rule: .rate(1), parameterCount: 10, seed: 1).ids == Array(0..<10))
        #expect(try WeightSelection(rule: .rate(0), parameterCount: 10, seed: 1).ids.isEmpty)
        #expect(throws: RecorderError.self) { try WeightSelection(rule: .rate(1.5), parameterCount: 10, seed: 1) }
        #expect(throws: RecorderError.self) { try WeightSelection(rule: .count(-1), parameterCount: 10, seed: 1) }
    }
}
