// kymo-ratios: speed ratios measured in one run. Usage: kymo-ratios [suite ...]
// Each suite is a function in its own file of this folder, registered here.

let suites: [(name: String, run: () throws -> Void)] = [
    ("data", dataRatios),
    ("gemm", gemmRatios),
    ("engine", engineRatios),
    ("store", storeRatios),
    ("sketches", sketchRatios),
    ("recorder", recorderRatios),
    ("replay", replayRatios),
]

let wanted = Set(CommandLine.arguments.dropFirst())
for suite in suites where wanted.isEmpty || wanted.contains(suite.name) {
    print("== \(suite.name)")
    try suite.run()
}
