extension SignalPipe {
    /// A pipe for a supervisor's stop signals; a signal already watched means another
    /// supervisor runs in this process.
    static func forSupervisor(_ signals: [Signal]) throws(SupervisorError) -> SignalPipe {
        do {
            return try SignalPipe(signals: signals)
        } catch {
            switch error {
            case .alreadyWatched: throw .alreadyRunning
            case .system(let system): throw .system(system)
            }
        }
    }
}
