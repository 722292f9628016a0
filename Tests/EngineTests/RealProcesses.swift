import CorralTestSupport
import Testing

/// Every suite that starts processes and signals this test process lives in here, so they run
/// one test at a time: the stop-signal handler is process-wide, and one supervisor runs at once.
@Suite("Real processes", .serialized, .processExclusive)
enum RealProcesses {}
