import Foundation

/// `--factor-epochs`: the epochs T3 records, written 1-based as a comma list of epochs and
/// inclusive ranges (`1,3..5`).
package struct EpochSelection: Equatable, Sendable {
    /// The chosen epochs, 0-based, ascending, without repeats.
    package let epochs: [Int]

    /// - Throws: `RecorderError.invalidConfiguration` (field `factor-epochs`) naming the part that
    ///   is not an epoch ≥ 1 or a range a..b with 1 ≤ a ≤ b.
    /// - Complexity: O(n + Σ range lengths).
    package init(parsing text: String) throws {
        var chosen = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            let bounds = trimmed.components(separatedBy: "..")
            guard (1...2).contains(bounds.count),
                  let first = Int(bounds[0].trimmingCharacters(in: .whitespaces)),
                  let last = Int(bounds[bounds.count - 1].trimmingCharacters(in: .whitespaces)),
                  first >= 1, last >= first else {
                throw RecorderError.invalidConfiguration(
                    field: "factor-epochs", message: "'\(trimmed)' is not an epoch (1, 2, …) or a range a..b")
            }
            for e in first...last { chosen.insert(e - 1) }
        }
        epochs = chosen.sorted()
    }
}
