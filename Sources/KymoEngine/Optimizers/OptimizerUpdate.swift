import CStreaming

/// The update rules of `OptimizerKind`, applied in one pass over the flat parameter vector.
/// Every element follows the same fixed sequence of Float operations (no reductions), so the
/// result does not depend on how the vector is split.
package enum OptimizerUpdate {
    /// 1/(1−β^t) rounded to Float (Double arithmetic, exponentiation by squaring).
    /// - Complexity: O(log t).
    package static func biasCorrection(_ beta: Float, step t: Int) -> Float {
        Float(1 / (1 - DeterministicMath.power(Double(beta), t)))
    }

    /// Computes Δw (into `update`, when given), updates the state `slots` and applies
    /// w ← w + Δw; with `saveBefore`, first copies w there. Returns Σ Δw[i]² in `VectorMath`'s order (the update
    /// norm, taken in the same pass).
    /// Shapes: all buffers (P). `gradient` is the batch-mean loss gradient; weight decay is added here.
    ///
    /// One pass of `SIMD8<Float>` lanes, 16 elements at a time (the last n mod 16 zero-padded);
    /// each lane does exactly the scalar rule's operations (no fused multiply-adds), so the
    /// result does not depend on the vector width.
    /// - Parameters:
    ///   - t: Adam's 1-based step count.
    /// - Complexity: O(P).
    @discardableResult
    package static func apply(
        _ config: OptimizerConfig, learningRate eta: Float, step t: Int, count: Int,
        parameters w: UnsafeMutablePointer<Float>,
        gradient g: UnsafePointer<Float>,
        slots: [UnsafeMutablePointer<Float>],
        update d: UnsafeMutablePointer<Float>?,
        saveBefore before: UnsafeMutablePointer<Float>? = nil
    ) -> Double {
        apply(config, learningRate: eta, step: t, count: count, parameters: w, gradient: g, slots: slots,
              update: d, saveBefore: before, summingGradient: false).update
    }

    /// `apply`, also returning Σ g[i]² in `VectorMath.sumOfSquares`' order (the same bits), taken
    /// in the same pass: for a caller that knows beforehand that the gradient norm is finite
    /// (`Trainer` checks a bound), this saves a pass over g.
    /// - Complexity: O(P).
    package static func applySummingGradient(
        _ config: OptimizerConfig, learningRate eta: Float, step t: Int, count: Int,
        parameters w: UnsafeMutablePointer<Float>,
        gradient g: UnsafePointer<Float>,
        slots: [UnsafeMutablePointer<Float>],
        update d: UnsafeMutablePointer<Float>?,
        saveBefore before: UnsafeMutablePointer<Float>? = nil
    ) -> (update: Double, gradient: Double) {
        apply(config, learningRate: eta, step: t, count: count, parameters: w, gradient: g, slots: slots,
              update: d, saveBefore: before, summingGradient: true)
    }

    /// `apply`/`applySummingGradient` for a step handed to an observer in `handOff`: Δw goes to
    /// `handOff.update` and a copy of g to `handOff.gradient`, both with streaming stores (the
    /// training thread does not read them again, and the recorder reads them steps later: a
    /// normal store would first fetch each cold line and evict the trainer's working set; this
    /// pass took 0.19 ms per seed-scale step that way against 0.11 ms streamed, isolated). The
    /// values are those of `apply` with `update: handOff.update`, bit for bit; the stores are
    /// fenced before returning (ordering this thread's stores: publish the buffers to another
    /// thread through a lock or another release, as the recorder's pipeline does).
    /// - Returns: Σ Δw[i]², and Σ g[i]² when `summingGradient` (else 0), in `VectorMath`'s order.
    /// - Complexity: O(P).
    package static func applyHandingOver(
        _ config: OptimizerConfig, learningRate eta: Float, step t: Int, count: Int,
        parameters w: UnsafeMutablePointer<Float>,
        gradient g: UnsafePointer<Float>,
        slots: [UnsafeMutablePointer<Float>],
        handOff: LentStepBuffers,
        saveBefore before: UnsafeMutablePointer<Float>? = nil,
        summingGradient: Bool
    ) -> (update: Double, gradient: Double) {
        precondition(handOff.count == count, "hand-off buffers hold \(handOff.count) floats, the pass \(count)")
        let sink = StreamedOutputs(update: handOff.update.baseAddress!, gradient: handOff.gradient.baseAddress!)
        defer { kymo_stream_fence() }
        return apply(config, learningRate: eta, step: t, count: count, parameters: w, gradient: g, slots: slots,
                     outputs: sink, saveBefore: before, summingGradient: summingGradient)
    }

    private static func apply(
        _ config: OptimizerConfig, learningRate eta: Float, step t: Int, count: Int,
        parameters w: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>,
        slots: [UnsafeMutablePointer<Float>], update d: UnsafeMutablePointer<Float>?,
        saveBefore before: UnsafeMutablePointer<Float>?, summingGradient: Bool
    ) -> (update: Double, gradient: Double) {
        if let d {
            return apply(config, learningRate: eta, step: t, count: count, parameters: w, gradient: g, slots: slots,
                         outputs: StoredUpdate(update: d), saveBefore: before, summingGradient: summingGradient)
        }
        return apply(config, learningRate: eta, step: t, count: count, parameters: w, gradient: g, slots: slots,
                     outputs: NoOutputs(), saveBefore: before, summingGradient: summingGradient)
    }

    private static func apply<Outputs: PassOutputs>(
        _ config: OptimizerConfig, learningRate eta: Float, step t: Int, count: Int,
        parameters w: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>,
        slots: [UnsafeMutablePointer<Float>], outputs: Outputs,
        saveBefore before: UnsafeMutablePointer<Float>?, summingGradient: Bool
    ) -> (update: Double, gradient: Double) {
        let buffers = Buffers(w: w, g: g, s0: slots.first ?? w, s1: slots.count > 1 ? slots[1] : w, before: before)
        let lambda = config.weightDecay
        switch config.kind {
        case .sgd:
            return run(SGDRule(eta: eta, lambda: lambda), count: count, buffers, outputs, summingGradient: summingGradient)
        case .momentum:
            return run(MomentumRule(eta: eta, lambda: lambda, mu: config.momentum), count: count, buffers, outputs,
                       summingGradient: summingGradient)
        case .nesterov:
            return run(NesterovRule(eta: eta, lambda: lambda, mu: config.momentum), count: count, buffers, outputs,
                       summingGradient: summingGradient)
        case .adam, .adamw:
            let rule = AdamRule(eta: eta, lambda: lambda, beta1: config.beta1, beta2: config.beta2,
                                epsilon: config.epsilon, bc1: biasCorrection(config.beta1, step: t),
                                bc2: biasCorrection(config.beta2, step: t), decoupled: config.kind == .adamw)
            return run(rule, count: count, buffers, outputs, summingGradient: summingGradient)
        }
    }

    typealias V = SIMD8<Float>

    /// The pass's pointers; `s0`/`s1` are only read by rules with that many slots.
    struct Buffers {
        var w: UnsafeMutablePointer<Float>
        var g: UnsafePointer<Float>
        var s0: UnsafeMutablePointer<Float>
        var s1: UnsafeMutablePointer<Float>
        var before: UnsafeMutablePointer<Float>?
    }

    /// The pass for one rule, specialized per rule: Σ Δw² and, with `summingGradient`, Σ g²
    /// (else 0), both in `VectorMath`'s order.
    /// - Complexity: O(count).
    static func run<Rule: UpdateRule, Outputs: PassOutputs>(_ rule: Rule, count: Int, _ p: Buffers, _ outputs: Outputs,
                                                            summingGradient: Bool) -> (update: Double, gradient: Double) {
        var sum = VectorMath.SquareSum()
        var gradientSum = VectorMath.SquareSum()
        let blocks = count / 16
        let (w, g, s0, s1) = (UnsafeMutableRawPointer(p.w), UnsafeRawPointer(p.g),
                              UnsafeMutableRawPointer(p.s0), UnsafeMutableRawPointer(p.s1))
        let before = p.before.map { UnsafeMutableRawPointer($0) }
        for b in 0..<blocks {
            var halves = (V(), V())
            if summingGradient {
                gradientSum.addFused(g.loadUnaligned(fromByteOffset: b * 64, as: V.self),
                                     g.loadUnaligned(fromByteOffset: b * 64 + 32, as: V.self))
            }
            for half in 0..<2 {
                let offset = b * 64 + half * 32
                var wv = w.loadUnaligned(fromByteOffset: offset, as: V.self)
                before?.storeBytes(of: wv, toByteOffset: offset, as: V.self)
                let gv = g.loadUnaligned(fromByteOffset: offset, as: V.self)
                outputs.storeGradient(gv, at: offset / 4)
                var a = Rule.slots > 0 ? s0.loadUnaligned(fromByteOffset: offset, as: V.self) : V()
                var c = Rule.slots > 1 ? s1.loadUnaligned(fromByteOffset: offset, as: V.self) : V()
                let dv = rule.apply(w: &wv, g: gv, s0: &a, s1: &c)
                w.storeBytes(of: wv, toByteOffset: offset, as: V.self)
                outputs.storeUpdate(dv, at: offset / 4)
                if Rule.slots > 0 { s0.storeBytes(of: a, toByteOffset: offset, as: V.self) }
                if Rule.slots > 1 { s1.storeBytes(of: c, toByteOffset: offset, as: V.self) }
                if half == 0 { halves.0 = dv } else { halves.1 = dv }
            }
            sum.addFused(halves.0, halves.1)
        }
        // The last count mod 16 elements, one lane each, in order.
        for i in (blocks * 16)..<count {
            var wv = V(repeating: p.w[i])
            p.before?[i] = p.w[i]
            var a = V(repeating: Rule.slots > 0 ? p.s0[i] : 0), c = V(repeating: Rule.slots > 1 ? p.s1[i] : 0)
            let dv = rule.apply(w: &wv, g: V(repeating: p.g[i]), s0: &a, s1: &c)
            p.w[i] = wv[0]
            outputs.storeUpdate(dv[0], at: i)
            outputs.storeGradient(p.g[i], at: i)
            if Rule.slots > 0 { p.s0[i] = a[0] }
            if Rule.slots > 1 { p.s1[i] = c[0] }
            sum.addTail(dv[0])
            if summingGradient { gradientSum.addTail(p.g[i]) }
        }
        return (sum.total, gradientSum.total)
    }
}

/// Where a pass writes what it hands out besides w and the state: Δw (and a copy of g), eight
/// elements at a block offset or one in the tail. Specialized into the pass, so the choice costs
/// no branch per element.
protocol PassOutputs {
    func storeUpdate(_ d: SIMD8<Float>, at element: Int)
    func storeUpdate(_ d: Float, at element: Int)
    func storeGradient(_ g: SIMD8<Float>, at element: Int)
    func storeGradient(_ g: Float, at element: Int)
}

extension PassOutputs {
    @inline(__always) func storeGradient(_ g: SIMD8<Float>, at element: Int) {}
    @inline(__always) func storeGradient(_ g: Float, at element: Int) {}
}

/// Nothing but w and the state (`kymo train`).
struct NoOutputs: PassOutputs {
    @inline(__always) func storeUpdate(_ d: SIMD8<Float>, at element: Int) {}
    @inline(__always) func storeUpdate(_ d: Float, at element: Int) {}
}

/// Δw into a buffer, with normal stores.
struct StoredUpdate: PassOutputs {
    let update: UnsafeMutablePointer<Float>
    @inline(__always) func storeUpdate(_ d: SIMD8<Float>, at element: Int) {
        UnsafeMutableRawPointer(update + element).storeBytes(of: d, as: SIMD8<Float>.self)
    }
    @inline(__always) func storeUpdate(_ d: Float, at element: Int) { update[element] = d }
}

/// Δw and a copy of g into hand-off buffers, with streaming stores (both 32-byte aligned, as
/// `LentStepBuffers` allocates them; the blocks start at multiples of 8 elements).
struct StreamedOutputs: PassOutputs {
    let update: UnsafeMutablePointer<Float>
    let gradient: UnsafeMutablePointer<Float>
    init(update: UnsafeMutablePointer<Float>, gradient: UnsafeMutablePointer<Float>) {
        precondition(kymo_stream_aligned(update) != 0 && kymo_stream_aligned(gradient) != 0,
                     "hand-off buffers must be 32-byte aligned for streaming stores")
        self.update = update
        self.gradient = gradient
    }
    @inline(__always) func storeUpdate(_ d: SIMD8<Float>, at element: Int) { kymo_stream_store8(update + element, d) }
    @inline(__always) func storeUpdate(_ d: Float, at element: Int) { update[element] = d }
    @inline(__always) func storeGradient(_ g: SIMD8<Float>, at element: Int) { kymo_stream_store8(gradient + element, g) }
    @inline(__always) func storeGradient(_ g: Float, at element: Int) { gradient[element] = g }
}

/// One optimizer's per-element rule on eight lanes: updates w and the slots, returns Δw.
protocol UpdateRule {
    /// Optimizer state slots the rule reads and writes (0, 1 or 2).
    static var slots: Int { get }
    func apply(w: inout SIMD8<Float>, g: SIMD8<Float>, s0: inout SIMD8<Float>, s1: inout SIMD8<Float>) -> SIMD8<Float>
}

/// g′ = g + λw; Δw = −η·g′.
struct SGDRule: UpdateRule {
    var eta: Float, lambda: Float
    static var slots: Int { 0 }
    @inline(__always)
    func apply(w: inout SIMD8<Float>, g: SIMD8<Float>, s0: inout SIMD8<Float>, s1: inout SIMD8<Float>) -> SIMD8<Float> {
        let gp = g + lambda * w
        let d = -eta * gp
        w += d
        return d
    }
}

/// g′ = g + λw; v ← μv + g′; Δw = −η·v.
struct MomentumRule: UpdateRule {
    var eta: Float, lambda: Float, mu: Float
    static var slots: Int { 1 }
    @inline(__always)
    func apply(w: inout SIMD8<Float>, g: SIMD8<Float>, s0 v: inout SIMD8<Float>, s1: inout SIMD8<Float>) -> SIMD8<Float> {
        let gp = g + lambda * w
        v = mu * v + gp
        let d = -eta * v
        w += d
        return d
    }
}

/// g′ = g + λw; v ← μv + g′; Δw = −η·(g′ + μv).
struct NesterovRule: UpdateRule {
    var eta: Float, lambda: Float, mu: Float
    static var slots: Int { 1 }
    @inline(__always)
    func apply(w: inout SIMD8<Float>, g: SIMD8<Float>, s0 v: inout SIMD8<Float>, s1: inout SIMD8<Float>) -> SIMD8<Float> {
        let gp = g + lambda * w
        v = mu * v + gp
        let d = -eta * (gp + mu * v)
        w += d
        return d
    }
}

/// g′ = g (+ λw for Adam); m ← β1·m + (1−β1)·g′; v ← β2·v + (1−β2)·g′²;
/// step = (m·bc1)/(√(v·bc2) + ε) (+ λw for AdamW); Δw = −η·step.
struct AdamRule: UpdateRule {
    var eta: Float, lambda: Float, beta1: Float, beta2: Float, epsilon: Float, bc1: Float, bc2: Float
    var decoupled: Bool
    static var slots: Int { 2 }
    @inline(__always)
    func apply(w: inout SIMD8<Float>, g: SIMD8<Float>, s0 m: inout SIMD8<Float>, s1 v: inout SIMD8<Float>) -> SIMD8<Float> {
        let gp = decoupled ? g : g + lambda * w
        m = beta1 * m + (1 - beta1) * gp
        v = beta2 * v + (1 - beta2) * (gp * gp)
        var step = (m * bc1) / ((v * bc2).squareRoot() + epsilon)
        if decoupled { step += lambda * w }
        let d = -eta * step
        w += d
        return d
    }
}
