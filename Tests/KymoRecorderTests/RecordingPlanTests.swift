import Testing
@testable import KymoRecorder

@Suite struct RecordingPlanTests {
    @Test func seedScaleDefaultFitsTheIssueCeiling() throws {
        let shape = RunShape.seedScale
        #expect(shape.parameterCount == 535_818)
        #expect(shape.stepsPerEpoch == 1563)
        let plan = try RecordingPlan(budget: .default, shape: shape)
        // 0.2 % of 535,818 × 100,000 × 4 bytes.
        #expect(plan.budgetBytesPerEpoch == 428_654_400)
        #expect(plan.totalBytesPerEpoch <= plan.budgetBytesPerEpoch)
        #expect(plan.totalBytesPerEpoch >= plan.budgetBytesPerEpoch * 9 / 10) // the budget is used
        #expect(plan.t1Count > 0)
        #expect(plan.trajectoryBits == 8 && plan.trajectoryStride >= 1)
        #expect(plan.countMinWidth >= 1 << 10 && plan.spaceSavingPerNeuron >= 8 && plan.sampledContributionsPerStep >= 16)
        #expect(plan.bytes(ofTier: "T3") == 0)
    }

    @Test func moreBudgetNeverRecordsLess() throws {
        var previous: RecordingPlan?
        for mb in [40, 80, 160, 320, 640, 1280, 5000] {
            let plan = try RecordingPlan(budget: .bytesPerEpoch(mb * 1_000_000), shape: .seedScale)
            #expect(plan.totalBytesPerEpoch <= mb * 1_000_000)
            if let p = previous {
                #expect(plan.t1Count >= p.t1Count)
                #expect(plan.trajectoryStride <= p.trajectoryStride || plan.trajectoryBits > p.trajectoryBits)
                #expect(plan.countMinWidth >= p.countMinWidth)
                #expect(plan.sampledContributionsPerStep >= p.sampledContributionsPerStep)
            }
            previous = plan
        }
    }

    @Test func timeLimitRaisesTheStrideUntilTheRecorderKeepsUp() throws {
        let free = try RecordingPlan(budget: .default, shape: .seedScale)
        let limit = 2_500_000.0 // 2.5 ms of a ~3 ms step
        let limited = try RecordingPlan(budget: .default, shape: .seedScale, recorderNanosecondsPerStepLimit: limit)
        #expect(free.recorderNanosecondsPerStep > limit) // the default byte budget alone would not keep up
        #expect(limited.recorderNanosecondsPerStep <= limit)
        #expect(limited.trajectoryStride > free.trajectoryStride)
        #expect(limited.totalBytesPerEpoch < free.totalBytesPerEpoch)
        #expect(limited.t1Count == free.t1Count && limited.countMinWidth == free.countMinWidth)
        #expect(limited.trainingThreadNanosecondsPerStep > 0)
    }

    @Test func tiersAndErrors() throws {
        #expect(throws: RecorderError.self) { try RecordingPlan(budget: .bytesPerEpoch(1_000_000), shape: .seedScale) }
        let t0only = try RecordingPlan(budget: .default, shape: .seedScale, tiers: [])
        #expect(t0only.t1Count == 0 && t0only.trajectoryStride == 0 && t0only.countMinWidth == 0)
        #expect(t0only.bytes(ofTier: "T1") == 0 && t0only.bytes(ofTier: "T2") == 0)
        let withT3 = try RecordingPlan(budget: .bytesPerEpoch(2_000_000_000), shape: .seedScale, tiers: [.t1, .t2, .t3])
        // T3 stores (512+256 hidden inputs + 778 deltas) halves per sample: fc1's input is the data;
        // plus a Float32 scale per sample for each stored row (3 δ, 2 a) and one k per step.
        let steps = (100_000 + 63) / 64
        #expect(withT3.bytes(ofTier: "T3") == (2 * (512 + 256 + 778) + 4 * 5) * 100_000 + 4 * steps)
        #expect(withT3.totalBytesPerEpoch <= 2_000_000_000)
        // Factors of one epoch in three: a third of the bytes per epoch, on average.
        let oneOfThree = try RecordingPlan(budget: .bytesPerEpoch(2_000_000_000), shape: .seedScale, tiers: [.t1, .t2, .t3], factorEpochs: 1)
        #expect(oneOfThree.bytes(ofTier: "T3") == (2 * (512 + 256 + 778) + 4 * 5) * 100_000 / 3 + 4 * steps)
    }

    @Test func parsesTiersFlag() throws {
        #expect(try RecordedTiers(parsing: "t0,t1,t2") == .default)
        #expect(try RecordedTiers(parsing: "T0") == [])
        #expect(try RecordedTiers(parsing: "all") == [.t1, .t2, .t3])
        #expect(try RecordedTiers(parsing: "t2, t3") == [.t2, .t3])
        #expect(throws: RecorderError.self) { try RecordedTiers(parsing: "t4") }
    }

    @Test func parsesBudgetFlag() throws {
        #expect(try RecordingBudget(parsing: "0.2%") == .shareOfGradientTensor(0.002))
        #expect(try RecordingBudget(parsing: "400MB") == .bytesPerEpoch(400_000_000))
        #expect(try RecordingBudget(parsing: "1.5GB") == .bytesPerEpoch(1_500_000_000))
        #expect(try RecordingBudget(parsing: "12345") == .bytesPerEpoch(12345))
        #expect(throws: RecorderError.self) { try RecordingBudget(parsing: "lots") }
        #expect(throws: RecorderError.self) { try RecordingBudget(parsing: "-3MB") }
    }
}

@Suite struct RecordingPlanTimeLimitTests {
    /// A time limit below the fixed costs must terminate, keeping trajectories at the largest
    /// time-limited stride rather than looping or dropping them.
    @Test func limitBelowFixedCostsTerminates() throws {
        var shape = RunShape.seedScale
        shape.samples = 20_000
        shape.epochs = 1
        let plan = try RecordingPlan(budget: .default, shape: shape, recorderNanosecondsPerStepLimit: 1_000)
        #expect(plan.trajectoryStride == RecordingPlan.maximumTimeLimitedStride)
        #expect(plan.trajectoryBits == 8)
    }
}
