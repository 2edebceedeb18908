/// The sections `kymo report` assembles, each built from plain arrays.
extension ReportSection {
    /// "Training curves": loss, accuracy (batch and probe), gradient and update norms per step,
    /// as a 2 × 2 grid, and a table of first / last / best values.
    /// - Complexity: O(steps · smoothing window).
    package static func trainingCurves(_ curves: TrainingCurves, heading: String = "Training curves") -> ReportSection {
        var section = ReportSection(heading: heading)
        let n = curves.steps.count
        let window = max(1, n / 40)
        section.paragraph("Per-step metrics from the exact run log (T0) over \(n) steps. Thin light lines are the raw per-batch values; solid lines their trailing mean over \(window) steps.")
        var charts: [Chart] = []
        let epochs = curves.epochStarts.enumerated().map { Annotation(.x, at: Double($0.element), label: "epoch \($0.offset + 2)") }
        charts.append(.line(LineChart(title: "Training loss", xLabel: "step", yLabel: "loss",
                                      series: raw(curves.steps, curves.loss, "loss", window, 0), annotations: epochs,
                                      yScale: logWorthy(curves.loss) ? .log : .linear)))
        var accuracy: [Series] = []
        if !curves.accuracy.isEmpty { accuracy += raw(curves.steps, curves.accuracy, "batch accuracy", window, 0) }
        if !curves.probeAccuracy.isEmpty {
            accuracy.append(Series(name: "probe accuracy", steps: curves.probeSteps, values: curves.probeAccuracy, color: Theme.color(1)))
        }
        if !accuracy.isEmpty {
            charts.append(.line(LineChart(title: "Accuracy", xLabel: "step", yLabel: "accuracy", series: accuracy, annotations: epochs)))
        }
        if !curves.gradientNorm.isEmpty {
            charts.append(.line(LineChart(title: "Gradient norm ‖g‖", xLabel: "step", yLabel: "‖g‖",
                                          series: raw(curves.steps, curves.gradientNorm, "‖g‖", window, 2),
                                          yScale: logWorthy(curves.gradientNorm) ? .log : .linear)))
        }
        if !curves.updateNorm.isEmpty {
            charts.append(.line(LineChart(title: "Update norm ‖Δw‖", xLabel: "step", yLabel: "‖Δw‖",
                                          series: raw(curves.steps, curves.updateNorm, "‖Δw‖", window, 3),
                                          yScale: logWorthy(curves.updateNorm) ? .log : .linear)))
        }
        section.figure(.grid(SmallMultiples(charts, columns: 2)), caption: "Training curves by step.")
        var rows: [[TableCell]] = []
        func row(_ name: String, _ steps: [Int], _ values: [Double], higherIsBetter: Bool) {
            guard let first = values.first, let last = values.last else { return }
            var best = 0
            for i in values.indices where values[i].isFinite {
                if !values[best].isFinite || (higherIsBetter ? values[i] > values[best] : values[i] < values[best]) { best = i }
            }
            rows.append([.text(name), .number(first), .number(last), .number(values[best]),
                         .integer(best < steps.count ? steps[best] : best)])
        }
        row("loss", curves.steps, curves.loss, higherIsBetter: false)
        row("batch accuracy", curves.steps, curves.accuracy, higherIsBetter: true)
        row("probe accuracy", curves.probeSteps, curves.probeAccuracy, higherIsBetter: true)
        row("gradient norm", curves.steps, curves.gradientNorm, higherIsBetter: false)
        row("update norm", curves.steps, curves.updateNorm, higherIsBetter: false)
        section.table(ReportTable(columns: ["metric", "first", "last", "best", "at step"], rows: rows,
                                  caption: "First, last and best value of each metric (best = lowest, or highest for accuracies)."))
        return section
    }

    /// "What was recorded": one row per tier or sketch with stored and raw size, compression and
    /// parameters, and a total row.
    /// - Complexity: O(items).
    package static func recorded(_ items: [RecordedItem], heading: String = "What was recorded") -> ReportSection {
        var section = ReportSection(heading: heading)
        let stored = items.reduce(0) { $0 + $1.storedBytes }
        let raw = items.reduce(0) { $0 + $1.rawBytes }
        section.paragraph("Every tier and sketch in the run's store, with its size on disk, its size before compression, and the parameters that fix its accuracy.")
        var rows: [[TableCell]] = items.map {
            [.text($0.tier), .text($0.content), .bytes($0.storedBytes), .bytes($0.rawBytes),
             .text($0.storedBytes == 0 ? "—" : NumberFormat.significant($0.compressionRatio, digits: 3) + "×"), .text($0.parameters)]
        }
        rows.append([.text("total"), .text(""), .bytes(stored), .bytes(raw),
                     .text(stored == 0 ? "—" : NumberFormat.significant(Double(raw) / Double(stored), digits: 3) + "×"), .text("")])
        section.table(ReportTable(columns: ["tier", "content", "stored", "raw", "compression", "parameters"], rows: rows))
        return section
    }

    /// "Error bounds": for each (source, question) the stated bound against the error observed on
    /// the exact tier — coverage, its 95 % interval, median and worst error — and a scatter of
    /// estimate vs truth with each bound as a vertical segment (at most `plotLimit` points per
    /// scatter: every miss, then evenly spaced covered answers; the table counts all).
    /// - Complexity: O(Σ n log n) over the checks.
    package static func errorBounds(_ checks: [BoundCheck], plotLimit: Int = 1500, heading: String = "Error bounds") -> ReportSection {
        var section = ReportSection(heading: heading)
        section.paragraph("Each answer a sketch gave is checked against the exact value from the exact tier. Coverage is the fraction of answers whose stated interval [lower, upper] contains the truth; a bound holds when that fraction is consistent with its stated confidence (the 95 % Wilson interval of the coverage reaches it; a deterministic bound must cover every answer).")
        var rows: [[TableCell]] = []
        var charts: [Chart] = []
        for check in checks {
            let stats = BoundStatistics(check.observations)
            rows.append([
                .text(check.source), .text(check.question), .text(check.truthTier), .integer(stats.count),
                .percent(stats.statedConfidence), .percent(stats.coverageRate),
                .text(NumberFormat.percent(stats.coverageInterval.lower) + " – " + NumberFormat.percent(stats.coverageInterval.upper)),
                .number(stats.medianError), .number(stats.worstError), .number(stats.medianWidth),
                .text(stats.holds ? "holds" : "VIOLATED"),
            ])
            charts.append(.scatter(BoundScatter(title: "\(check.source): \(check.question)", observations: check.plotted(limit: plotLimit),
                                                xLabel: "truth (\(check.truthTier))", width: 520, height: 380)))
        }
        section.table(ReportTable(columns: ["source", "question", "truth", "n", "stated", "coverage", "coverage 95 % CI",
                                            "median error", "worst error", "median width", "verdict"],
                                  rows: rows, caption: "Stated bounds against observed errors."))
        if !charts.isEmpty {
            section.figure(.grid(SmallMultiples(charts, columns: 2)),
                           caption: "Estimate against truth for each source and question. Vertical segments are the stated bounds; the dashed line is y = x (or y = 0 where bounds are too narrow to see at that scale and the error estimate − truth is drawn instead); red marks an answer whose bound missed the truth. At most \(plotLimit) answers are drawn per plot (every miss first, then evenly spaced covered ones); the table counts all.")
        }
        return section
    }

    /// "Weight trajectories": each weight's reconstructed trajectory with its ±q/2 band and exact
    /// values where known, and a table of total variation and worst reconstruction error.
    /// - Complexity: O(Σ trajectory length).
    package static func trajectories(_ weights: [WeightTrajectory], heading: String = "Most-changed weights") -> ReportSection {
        var section = ReportSection(heading: heading)
        section.paragraph("Trajectories reconstructed from the closed-loop quantized deltas (T2). Every reconstructed value is within q/2 of the true one at every step, so the true trajectory lies inside the shaded band; dots are exact values where the weight is also in T1.")
        let charts: [Chart] = weights.map {
            .band(BandChart(title: $0.name, x: $0.steps.map(Double.init), values: $0.values, quantum: $0.quantum, exact: $0.exact))
        }
        if !charts.isEmpty {
            section.figure(.grid(SmallMultiples(charts, columns: 2)), caption: "Weight value by step with its quantization band.")
        }
        // The band is usually far thinner than the trajectory's range; for the weights with
        // exact values, show the reconstruction error itself against ±q/2.
        let residuals: [Chart] = weights.filter { !$0.exact.isEmpty }.map { w in
            let n = min(w.steps.count, w.values.count, w.exact.count)
            return .band(BandChart(title: "\(w.name): ŵ − w", yLabel: "ŵ − w", x: w.steps.prefix(n).map(Double.init),
                                   values: [Double](repeating: 0, count: n), quantum: w.quantum,
                                   exact: (0..<n).map { w.values[$0] - w.exact[$0] },
                                   valueLabel: "0", exactLabel: "ŵ − w", height: 220))
        }
        if !residuals.isEmpty {
            section.figure(.grid(SmallMultiples(residuals, columns: 2)),
                           caption: "Reconstruction error ŵ − w of the weights also recorded exactly (T1); the stated bound is the shaded ±q/2.")
        }
        let rows: [[TableCell]] = weights.map { w in
            let worst = w.worstReconstructionError
            return [.text(w.name), .number(w.totalVariation), .number(w.values.first ?? .nan), .number(w.values.last ?? .nan),
                    .number(w.quantum), worst.map { .number($0) } ?? .missing,
                    .text(worst.map { $0 <= w.quantum / 2 ? "within q/2" : "EXCEEDS q/2" } ?? "no exact values")]
        }
        section.table(ReportTable(columns: ["weight", "Σ|Δŵ|", "first", "last", "q", "max |ŵ − w|", "check"], rows: rows))
        return section
    }

    /// "Comparison": two runs' loss, probe accuracy and the distance between their weights by
    /// step, and a table at up to `tableRows` evenly spaced distance steps.
    /// - Complexity: O(steps · smoothing window + tableRows · log steps).
    package static func comparison(_ c: RunComparison, tableRows: Int = 8, heading: String = "Comparison") -> ReportSection {
        var section = ReportSection(heading: heading)
        section.paragraph("\(c.nameA) and \(c.nameB) side by side: training loss (trailing mean), probe accuracy, and the L2 distance between their weights at the same step.")
        let window = max(1, max(c.a.steps.count, c.b.steps.count) / 40)
        let loss = LineChart(title: "Training loss", xLabel: "step", yLabel: "loss", series: [
            Series(name: c.nameA, steps: c.a.steps, values: movingAverage(c.a.loss, window: window), color: Theme.color(0)),
            Series(name: c.nameB, steps: c.b.steps, values: movingAverage(c.b.loss, window: window), dashed: true, color: Theme.color(1)),
        ], yScale: logWorthy(c.a.loss + c.b.loss) ? .log : .linear)
        let accuracy = LineChart(title: "Probe accuracy", xLabel: "step", yLabel: "accuracy", series: [
            Series(name: c.nameA, steps: c.a.probeSteps, values: c.a.probeAccuracy, color: Theme.color(0)),
            Series(name: c.nameB, steps: c.b.probeSteps, values: c.b.probeAccuracy, dashed: true, color: Theme.color(1)),
        ])
        let distance = LineChart(title: "Weight distance ‖w_A − w_B‖", xLabel: "step", yLabel: "L2 distance",
                                 series: [Series(name: "distance", steps: c.distanceSteps, values: c.distance, color: Theme.color(4))],
                                 includeZero: true)
        section.figure(.grid(SmallMultiples([.line(loss), .line(accuracy), .line(distance)], columns: 2)),
                       caption: "\(c.nameA) (solid) and \(c.nameB) (dashed) by step.")
        var rows: [[TableCell]] = []
        let count = c.distanceSteps.count
        let picks = count <= tableRows ? Array(0..<count) : (0..<tableRows).map { $0 * (count - 1) / (tableRows - 1) }
        for i in picks {
            let step = c.distanceSteps[i]
            rows.append([.integer(step),
                         cell(at: step, c.a.steps, c.a.loss), cell(at: step, c.b.steps, c.b.loss),
                         cell(at: step, c.a.probeSteps, c.a.probeAccuracy), cell(at: step, c.b.probeSteps, c.b.probeAccuracy),
                         i < c.distance.count ? .number(c.distance[i]) : .missing])
        }
        section.table(ReportTable(columns: ["step", "loss " + c.nameA, "loss " + c.nameB, "probe acc. " + c.nameA,
                                            "probe acc. " + c.nameB, "distance"], rows: rows,
                                  caption: "Values at the last recorded step at or before each listed step."))
        return section
    }

    /// A section showing images (samples that moved a layer most, say) with captions.
    /// - Complexity: O(total pixels).
    package static func images(_ grid: ImageGrid, heading: String, text: String, caption: String) -> ReportSection {
        var section = ReportSection(heading: heading)
        if !text.isEmpty { section.paragraph(text) }
        section.figure(.images(grid), caption: caption)
        return section
    }

    // MARK: - Helpers

    /// The raw series (faint) and its trailing mean, in palette colour `color`.
    private static func raw(_ steps: [Int], _ values: [Double], _ name: String, _ window: Int, _ color: Int) -> [Series] {
        if window <= 1 { return [Series(name: name, steps: steps, values: values, color: Theme.color(color))] }
        return [Series(name: name + " (raw)", steps: steps, values: values, faint: true, color: Theme.color(color)),
                Series(name: name, steps: steps, values: movingAverage(values, window: window), color: Theme.color(color))]
    }

    /// Positive values spanning more than a factor of 20 read better on a log axis.
    private static func logWorthy(_ values: [Double]) -> Bool {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max(), lo > 0 else { return false }
        return hi / lo > 20
    }

    /// The value at the last step ≤ `step`.
    private static func cell(at step: Int, _ steps: [Int], _ values: [Double]) -> TableCell {
        var lo = 0, hi = min(steps.count, values.count)
        while lo < hi {
            let mid = (lo + hi) / 2
            if steps[mid] <= step { lo = mid + 1 } else { hi = mid }
        }
        return lo == 0 ? .missing : .number(values[lo - 1])
    }
}
