import KymoCore

/// The T1 weights: a deterministic subset of the flat parameter ids `0..<parameterCount`
/// (ids in the engine's ParameterLayout order), chosen by XXH3 of (run seed, weight id).
///
/// Two rules, both pure functions of (seed, id):
/// - `rate(r)`: id is kept iff `XXH3(id, seed: seed') < r·2⁶⁴` — each weight independently with
///   probability r; the selection for rate r is a subset of the one for any r' > r.
/// - `count(n)`: the n ids with the smallest hash (bottom-n; ties by id) — exactly n weights, and
///   the selection for n is a subset of the one for any n' > n.
///
/// `seed'` is the run seed mixed with a fixed domain constant, so T1's hash never coincides with a
/// sketch's hash of the same ids.
package struct WeightSelection: Equatable, Sendable {
    /// How the weights are chosen.
    package enum Rule: Equatable, Sendable {
        case rate(Double)
        case count(Int)
    }

    /// The domain constant mixed into the run seed ("T1weight" in ASCII).
    package static let domain: UInt64 = 0x5431_7765_6967_6874

    /// The chosen flat weight ids, ascending.
    package let ids: [Int]

    /// The hash key of a weight id under `seed`.
    /// - Complexity: O(1).
    package static func key(of id: Int, seed: UInt64) -> UInt64 {
        XXH3.hash(UInt64(id), seed: seed ^ domain)
    }

    /// Chooses the T1 weights among `parameterCount` parameters.
    /// - Throws: `RecorderError.invalidConfiguration` for a rate outside [0, 1] or a negative count.
    /// - Complexity: O(P) for a rate; O(P + n log n) expected for a count (one pass that keeps
    ///   a bounded candidate set, then a sort).
    package init(rule: Rule, parameterCount: Int, seed: UInt64) throws {
        switch rule {
        case let .rate(r):
            guard r >= 0, r <= 1, r.isFinite else {
                throw RecorderError.invalidConfiguration(field: "t1-rate", message: "\(r) is not in [0, 1]")
            }
            var ids: [Int] = []
            if r >= 1 {
                ids = Array(0..<parameterCount)
            } else {
                // cutoff = floor(r · 2⁶⁴), computed without overflow.
                let cutoff = UInt64((r * 0x1p64).rounded(.down))
                for id in 0..<parameterCount where Self.key(of: id, seed: seed) < cutoff {
                    ids.append(id)
                }
            }
            self.ids = ids
        case let .count(n):
            guard n >= 0 else {
                throw RecorderError.invalidConfiguration(field: "t1-count", message: "\(n) is negative")
            }
            if n >= parameterCount {
                ids = Array(0..<parameterCount)
                return
            }
            if n == 0 {
                ids = []
                return
            }
            // Bottom-n by (key, id): keep candidates below a running cutoff; compact when the
            // buffer reaches 2n so the pass stays linear.
            var candidates: [(key: UInt64, id: Int)] = []
            candidates.reserveCapacity(2 * n)
            var cutoff = UInt64.max
            for id in 0..<parameterCount {
                let k = Self.key(of: id, seed: seed)
                guard k <= cutoff else { continue }
                candidates.append((k, id))
                if candidates.count == 2 * n {
                    candidates.sort { ($0.key, $0.id) < ($1.key, $1.id) }
                    candidates.removeLast(n)
                    cutoff = candidates[n - 1].key
                }
            }
            candidates.sort { ($0.key, $0.id) < ($1.key, $1.id) }
            ids = candidates.prefix(n).map(\.id).sorted()
        }
    }

    /// Whether `id` is selected.
    /// - Complexity: O(log n).
    package func contains(_ id: Int) -> Bool {
        var lo = 0, hi = ids.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ids[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < ids.count && ids[lo] == id
    }
}
