import KymoEngine

/// What one segment's replay observed; segments' parts concatenate in order into a result.
struct SegmentObservations: Sendable {
    var contributions: ContributionTable
    var gradients: [StepValues] = []
    var gradientCounts: [StepGradientCounts] = []
    /// Values before the segment's first observed step (only kept from the first segment).
    var trajectoryInitial: [Float]? = nil
    var trajectory: [StepValues] = []
    var losses: [StepLosses] = []
    /// Σ|Δw| and ΣΔw of this segment's steps, in step order (empty unless requested).
    var absoluteChange: [Double] = []
    var change: [Double] = []
    /// Per zero-crossing query: the first crossing in this segment (step, before, after).
    var crossings: [(step: Int, before: Float, after: Float)?]
    /// Per zero-crossing query: the weight before the segment's first observed step.
    var crossingInitial: [Float?]

    init(request: ReplayRequest) {
        contributions = ContributionTable(ids: request.collectedIDs)
        crossings = Array(repeating: nil, count: request.zeroCrossings.count)
        crossingInitial = Array(repeating: nil, count: request.zeroCrossings.count)
    }
}

/// Computes a request's exact values from each step's trace, on the replaying thread.
final class ProbeObserver: StepObserver {
    let request: ReplayRequest
    var observations: SegmentObservations
    /// (layer, row, column or −1 for a bias) of each collected id.
    private let locations: [(layer: Int, row: Int, column: Int)]
    /// The only ids whose pre-update values this observer reads (trajectories' starts and zero
    /// crossings), so the trainer skips its O(P) parameter snapshot on every replayed step.
    let parametersBeforeIds: [Int]?

    init(request: ReplayRequest, layout: ParameterLayout) {
        self.request = request
        observations = SegmentObservations(request: request)
        parametersBeforeIds = request.trajectoryIDs + request.zeroCrossings.map(\.parameter)
        locations = observations.contributions.ids.map { id in
            switch layout.location(of: id) {
            case let .weight(l, row, column): (l, row, column)
            case let .bias(l, row): (l, row, -1)
            }
        }
    }

    /// Starts a new segment's observations; returns the previous ones.
    func take() -> SegmentObservations {
        let done = observations
        observations = SegmentObservations(request: request)
        return done
    }

    func observe(_ trace: StepTrace) {
        let t = trace.step
        let b = trace.batchSize
        let ids = observations.contributions.ids
        if !ids.isEmpty {
            // c = scale · (δ[row] · a[col]), the very expression of StepTrace.contribution.
            let scales = ids.map { trace.contributionScale(of: $0) }
            for s in 0..<b {
                observations.contributions.steps.append(t)
                observations.contributions.samples.append(trace.sampleIDs[s])
                for (j, loc) in locations.enumerated() {
                    let layer = trace.layers[loc.layer]
                    let d = layer.outputGradients[s * layer.outFeatures + loc.row]
                    let g = loc.column < 0 ? d : d * layer.inputs[s * layer.inFeatures + loc.column]
                    observations.contributions.values.append(scales[j] * g)
                }
            }
        }
        if !request.gradientIDs.isEmpty {
            observations.gradients.append(StepValues(step: t, values: request.gradientIDs.map { trace.gradient[$0] }))
        }
        if !request.gradientThresholds.isEmpty {
            let g = trace.gradient
            let counts = request.gradientThresholds.map { threshold in
                var n = 0
                for i in 0..<g.count where abs(g[i]) > threshold { n += 1 }
                return n
            }
            observations.gradientCounts.append(StepGradientCounts(step: t, counts: counts, parameterCount: g.count))
        }
        if !request.trajectoryIDs.isEmpty {
            if observations.trajectoryInitial == nil {
                observations.trajectoryInitial = request.trajectoryIDs.map { trace.parametersBefore[$0] }
            }
            observations.trajectory.append(StepValues(step: t, values: request.trajectoryIDs.map { trace.parametersAfter[$0] }))
        }
        if request.changeTotals {
            let u = trace.update
            // Moved out and back so the two buffers are not two overlapping accesses to `observations`.
            var absoluteChange = observations.absoluteChange
            var change = observations.change
            observations.absoluteChange = []
            observations.change = []
            if change.isEmpty {
                absoluteChange = Array(repeating: 0, count: u.count)
                change = Array(repeating: 0, count: u.count)
            }
            absoluteChange.withUnsafeMutableBufferPointer { absolute in
                change.withUnsafeMutableBufferPointer { signed in
                    for i in 0..<u.count {
                        absolute[i] += Double(abs(u[i]))
                        signed[i] += Double(u[i])
                    }
                }
            }
            observations.absoluteChange = absoluteChange
            observations.change = change
        }
        if request.losses {
            observations.losses.append(StepLosses(step: t, loss: trace.summary.loss, sampleIDs: Array(trace.sampleIDs),
                                                  sampleLosses: Array(trace.sampleLosses)))
        }
        for (q, query) in request.zeroCrossings.enumerated() {
            let before = trace.parametersBefore[query.parameter]
            let after = trace.parametersAfter[query.parameter]
            if observations.crossingInitial[q] == nil { observations.crossingInitial[q] = before }
            if observations.crossings[q] == nil, before != 0, after == 0 || (after > 0) != (before > 0) {
                observations.crossings[q] = (t, before, after)
            }
        }
    }
}
