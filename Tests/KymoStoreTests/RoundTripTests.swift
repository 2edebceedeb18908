import Testing
@testable import KymoStore
import KymoTestSupport
import KymoCore
