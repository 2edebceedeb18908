import Testing
@testable import KymoReport

@Suite struct NumberFormatTests {
    @Test func significantDigits() {
        #expect(NumberFormat.significant(1234.5) == "1235")
        #expect(NumberFormat.significant(0.000123456) == "0.0001235")
        #expect(NumberFormat.significant(-2.5) == "-2.5")
        #expect(NumberFormat.significant(0) == "0")
        #expect(NumberFormat.significant(100) == "100")
        #expect(NumberFormat.significant(9999.7) == "10000")
        #expect(NumberFormat.significant(1.5e7) == "1.5e7")
        #expect(NumberFormat.significant(2.5e-7) == "2.5e-7")
        #expect(NumberFormat.significant(0.1 + 0.2) == "0.3")
        #expect(NumberFormat.significant(.nan) == "NaN")
        #expect(NumberFormat.significant(-.infinity) == "-∞")
        #expect(NumberFormat.significant(123456) == "123500")
        #expect(NumberFormat.significant(1_234_567) == "1.235e6")
    }

    @Test func fixedDecimals() {
        #expect(NumberFormat.fixed(12.5) == "12.5")
        #expect(NumberFormat.fixed(12.004) == "12")
        #expect(NumberFormat.fixed(-0.001) == "0")
        #expect(NumberFormat.fixed(-3.14159) == "-3.14")
        #expect(NumberFormat.fixed(0.05) == "0.05")
        #expect(NumberFormat.fixed(.nan) == "0")
        #expect(NumberFormat.fixed(400) == "400")
    }

    @Test func bytesAndPercent() {
        #expect(NumberFormat.bytes(512) == "512 B")
        #expect(NumberFormat.bytes(1536) == "1.5 KiB")
        #expect(NumberFormat.bytes(3 * 1024 * 1024) == "3 MiB")
        #expect(NumberFormat.percent(0.953) == "95.3 %")
    }
}
