import Testing
@testable import KymoRecorder

@Suite struct EpochSelectionTests {
    @Test func parsesEpochsAndRanges() throws {
        #expect(try EpochSelection(parsing: "1,3..5").epochs == [0, 2, 3, 4])
        #expect(try EpochSelection(parsing: " 2 , 2..3 ,1").epochs == [0, 1, 2])
        #expect(try EpochSelection(parsing: "4..4").epochs == [3])
    }

    @Test(arguments: ["", "0", "3..1", "x", "1..", "..2", "1...3", "1,,2", "-1", "1..2..3"])
    func refusesWhatIsNotAnEpoch(_ text: String) {
        #expect {
            _ = try EpochSelection(parsing: text)
        } throws: { error in
            "\(error)".contains("factor-epochs")
        }
    }
}
