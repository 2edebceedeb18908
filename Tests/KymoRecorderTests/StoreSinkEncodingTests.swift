import KymoCore
import Testing
@testable import KymoRecorder

@Suite struct StoreSinkEncodingTests {
    @Test func contributionBlobMatchesFieldByFieldEncoding() {
        var rng = CounterRNG(key: 9)
        let tuples = (0..<53).map { _ in
            SampledContribution(sample: UInt32(truncatingIfNeeded: rng.next()), weight: UInt32(truncatingIfNeeded: rng.next()),
                                contribution: Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())),
                                uniform: rng.nextDouble())
        }
        for sampled in [tuples, []] {
            var w = ByteWriter()
            w.write(UInt32(sampled.count))
            for c in sampled { w.write(c.sample); w.write(c.weight); w.write(c.contribution); w.write(c.uniform) }
            #expect(StoreSink.contributionBlob(sampled) == w.bytes)
        }
    }
}
