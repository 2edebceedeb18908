/// Why a report could not be built from a run.
package enum ReportError: Error, CustomStringConvertible, Equatable {
    /// A column the report needs is missing or has an unexpected type.
    case column(run: String, column: String, problem: String)
    /// The run's manifest lacks or garbles what the report needs.
    case manifest(run: String, problem: String)

    package var description: String {
        switch self {
        case let .column(run, column, problem): "run '\(run)': column '\(column)': \(problem)"
        case let .manifest(run, problem): "run '\(run)': manifest: \(problem)"
        }
    }
}
