/// Maps data values to pixels along one axis, linearly or logarithmically, and chooses "nice"
/// tick values (1, 2, 5 × 10ⁿ; Heckbert, "Nice numbers for graph labels", Graphics Gems 1990).
package struct Scale: Sendable, Equatable {
    package enum Kind: Sendable, Equatable { case linear, log }

    package var kind: Kind
    /// Data interval after widening to nice bounds; `lower < upper`, both > 0 for `.log`.
    package var lower: Double
    package var upper: Double
    /// Pixel interval; `rangeStart` maps from `lower` (may be > `rangeEnd` for a y axis).
    package var rangeStart: Double
    package var rangeEnd: Double
    /// The tick values, in increasing order.
    package var ticks: [Double]

    /// A scale covering `values` (non-finite ones and, for `.log`, non-positive ones ignored).
    /// A linear scale is extended to nice tick bounds unless `tight`, in which case the domain is
    /// the data's range and only the ticks inside it are kept (for step axes). A log scale is
    /// tight when at least two ticks fall inside the data, else extended to whole decades.
    /// `includeZero` keeps 0 in a linear domain.
    /// - Complexity: O(values + ticks).
    package init(kind: Kind = .linear, covering values: [Double], range: (Double, Double),
                 tickCount: Int = 5, includeZero: Bool = false, tight: Bool = false) {
        self.kind = kind
        rangeStart = range.0
        rangeEnd = range.1
        let usable = values.filter { $0.isFinite && (kind == .linear || $0 > 0) }
        var lo = usable.min() ?? (kind == .log ? 1 : 0)
        var hi = usable.max() ?? (kind == .log ? 10 : 1)
        if includeZero && kind == .linear { lo = min(lo, 0); hi = max(hi, 0) }
        switch kind {
        case .linear:
            if lo == hi {
                let pad = lo == 0 ? 1 : abs(lo) * 0.1
                lo -= pad
                hi += pad
            }
            let all = Scale.niceTicks(lower: lo, upper: hi, count: tickCount)
            if tight {
                let slack = (hi - lo) * 1e-9
                ticks = all.filter { $0 >= lo - slack && $0 <= hi + slack }
                lower = lo
                upper = hi
            } else {
                ticks = all
                lower = all.first!
                upper = all.last!
            }
        case .log:
            if lo == hi { lo /= 10; hi *= 10 }
            let all = Scale.logTicks(lower: lo, upper: hi)
            let inside = all.filter { $0 >= lo * (1 - 1e-9) && $0 <= hi * (1 + 1e-9) }
            if inside.count >= 2 {
                ticks = inside
                // A little air (2 % of the log span) so curves do not touch the frame.
                let pad = 0.02
                let span = log10Value(hi) - log10Value(lo)
                lower = lo / Scale.tenTo(span * pad)
                upper = hi * Scale.tenTo(span * pad)
            } else {
                ticks = all
                lower = all.first!
                upper = all.last!
            }
        }
    }

    /// 10^x for the log-scale padding.
    private static func tenTo(_ x: Double) -> Double { exp10Value(x) }

    /// Pixel position of `value` (non-positive values on a log scale map below the axis start).
    /// - Complexity: O(1).
    package func map(_ value: Double) -> Double {
        let t: Double
        switch kind {
        case .linear:
            t = (value - lower) / (upper - lower)
        case .log:
            guard value > 0 else { return rangeStart }
            t = (log10Value(value) - log10Value(lower)) / (log10Value(upper) - log10Value(lower))
        }
        return rangeStart + t * (rangeEnd - rangeStart)
    }

    /// The nice number near `x` > 0: 1, 2, 5 or 10 × 10ⁿ, rounded or the ceiling.
    /// - Complexity: O(|log₁₀ x|).
    package static func niceNumber(_ x: Double, round: Bool) -> Double {
        let e = NumberFormat.decimalExponent(x)
        let p = NumberFormat.powerOfTen(e)
        let f = x / p
        let nice: Double
        if round {
            nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10
        } else {
            nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10
        }
        return nice * p
    }

    /// About `count` evenly spaced nice ticks whose span covers [lower, upper].
    /// - Complexity: O(count).
    package static func niceTicks(lower: Double, upper: Double, count: Int = 5) -> [Double] {
        precondition(upper > lower && count >= 2)
        let step = niceNumber((upper - lower) / Double(count - 1), round: true)
        let first = (lower / step).rounded(.down)
        let last = (upper / step).rounded(.up)
        var ticks: [Double] = []
        var i = first
        while i <= last + 0.5 {
            // i·step, then snapped to the step's decimal precision so 0.1·3 prints as 0.3.
            let value = i * step
            ticks.append(value == 0 ? 0 : value)
            i += 1
        }
        return ticks
    }

    /// Ticks at powers of ten spanning [lower, upper]; when the data spans under 2.5 decades also at
    /// 2 and 5 × 10ⁿ.
    /// - Complexity: O(decades).
    package static func logTicks(lower: Double, upper: Double) -> [Double] {
        precondition(lower > 0 && upper > lower)
        let e0 = NumberFormat.decimalExponent(lower)
        let e1 = NumberFormat.decimalExponent(upper) + (isPowerOfTen(upper) ? 0 : 1)
        var ticks: [Double] = []
        let dense = upper / lower < 316  // under 2.5 decades: 1, 2, 5 per decade
        for e in e0...e1 {
            let p = NumberFormat.powerOfTen(e)
            ticks.append(p)
            if dense && e < e1 { ticks.append(2 * p); ticks.append(5 * p) }
        }
        return ticks
    }

    private static func isPowerOfTen(_ x: Double) -> Bool {
        x == NumberFormat.powerOfTen(NumberFormat.decimalExponent(x))
    }
    private func isPowerOfTen(_ x: Double) -> Bool { Scale.isPowerOfTen(x) }
}
