// kymo-ratios: speed ratios measured in one run. Usage: kymo-ratios [suite ...]
// Each suite is a function in its own file of this folder, registered here.

import KymoCore

let suites: [(name: String, run: () throws -> Void)] = [
    ("data", dataRatios),
    ("gemm", gemmRatios),
    ("engine", engineRatios),
    ("store", storeRatios),
    ("sketches", sketchRatios),
    ("recorder", recorderRatios),
    ("replay", replayRatios),
]

// As the kymo executable does: freed large blocks are reused, not unmapped and faulted in again.
ProcessMemory.keepFreedBlocks()
let wanted = Set(CommandLine.arguments.dropFirst())
for suite in suites where wanted.isEmpty || wanted.contains(suite.name) {
    print("== \(suite.name)")
    try suite.run()
}
