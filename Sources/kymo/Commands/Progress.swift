import Foundation

/// Redraws the terminal's current line as `kymo train`'s and `kymo record`'s progress bar:
/// `epoch E/N [####......] done/total loss L`.
func printProgress(epoch: Int, epochs: Int, done: Int, total: Int, loss: Float) {
    let width = 30
    let filled = width * done / max(total, 1)
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
    print("\repoch \(epoch + 1)/\(epochs) [\(bar)] \(done)/\(total) loss \(String(format: "%.4f", loss))", terminator: "")
    fflush(nil)
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
