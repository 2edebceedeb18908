import Foundation
import Testing
import KymoCore
@testable import KymoSketches

/// Draws indices 0..<n with P(i) ∝ 1/(i+1)^s.
struct Zipf {
    let cdf: [Double]
    init(n: Int, s: Double) {
        var acc = 0.0
        var cdf = [Double](repeating: 0, count: n)
        for i in 0..<n { acc += 1 / pow(Double(i + 1), s); cdf[i] = acc }
        self.cdf = cdf.map { $0 / acc }
    }
    func draw(_ rng: inout CounterRNG) -> Int {
        let u = rng.nextDouble()
        var lo = 0, hi = cdf.count - 1
        while lo < hi { let mid = (lo + hi) / 2; if cdf[mid] > u { hi = mid } else { lo = mid + 1 } }
        return lo
    }
}

enum StreamKind: CaseIterable { case zipf, uniform }

/// A stream of (index, key) draws over `universe` distinct keys.
func stream(_ kind: StreamKind, universe: Int, length: Int, seed: UInt64) -> [Int] {
    var rng = CounterRNG(key: seed)
    let zipf = kind == .zipf ? Zipf(n: universe, s: 1.1) : nil
    return (0..<length).map { _ in zipf?.draw(&rng) ?? Int(rng.next(below: UInt64(universe))) }
}

/// Distinct, well-spread 64-bit keys for indices.
func key(_ i: Int) -> UInt64 { CounterRNG.mix(UInt64(i) &+ 0x1234_5678) }

/// Every truncation (sampled) and every flipped byte (sampled) must throw a SketchError.
func expectDamageDetected(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation,
                          _ decode: ([UInt8]) throws -> Void) {
    #expect(throws: Never.self, sourceLocation: sourceLocation) { try decode(bytes) }
    var undetected: [String] = []
    let step = max(1, bytes.count / 80)
    for cut in stride(from: 0, to: bytes.count, by: step) {
        do { try decode(Array(bytes[0..<cut])); undetected.append("truncated to \(cut)") }
        catch { if !(error is SketchError) { undetected.append("cut \(cut): \(error)") } }
    }
    for position in Array(stride(from: 0, to: bytes.count, by: step)) + [bytes.count - 1] {
        for bit in [0, 5] {
            var damaged = bytes
            damaged[position] ^= 1 << bit
            do { try decode(damaged); undetected.append("flip at \(position)") }
            catch { if !(error is SketchError) { undetected.append("flip \(position): \(error)") } }
        }
    }
    #expect(undetected.isEmpty, "undetected damage: \(undetected.prefix(5))", sourceLocation: sourceLocation)
}

/// The SketchError `body` throws, or nil when it does not throw.
func sketchError(_ body: () throws -> Void) -> SketchError? {
    do { try body(); return nil } catch { return error as? SketchError }
}
