import CorralEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The dashboard as an engine front end: folds events into ``DashboardState``, turns keys into
/// commands, and redraws through ``NcursesBackend`` — at most ~30 times a second while things
/// change, once a second when idle (the uptime), ten times a second during a countdown.
public final class DashboardFrontend: Frontend {
    /// The state on screen.
    public private(set) var state: DashboardState
    private let backend: NcursesBackend
    private let signals: SignalPipe
    private let clock = ContinuousClock()
    private var dirty = true
    private var lastDraw: ContinuousClock.Instant
    private let frameInterval = Duration.milliseconds(33)

    /// Takes over the terminal. `SIGWINCH` (resize) and, unless it is a stop signal, `SIGHUP`
    /// (the terminal closed: stop gracefully) are watched while the dashboard runs.
    public init(state: DashboardState, backend: NcursesBackend) throws {
        self.state = state
        self.backend = backend
        let watched: [Signal] = [Signal(rawValue: SIGWINCH)] + (state.stopSignals.contains(.hangup) ? [] : [.hangup])
        signals = try SignalPipe(signals: watched)
        do {
            try backend.start()
        } catch {
            signals.restore()
            throw error
        }
        lastDraw = clock.now - .seconds(1)
    }

    public var descriptors: [CInt] { [STDIN_FILENO, signals.readDescriptor] }

    public var nextDeadline: ContinuousClock.Instant? {
        if dirty { return lastDraw + frameInterval }
        if state.stopping?.deadline != nil || state.stopping != nil && state.report == nil {
            return lastDraw + .milliseconds(100)
        }
        return lastDraw + .seconds(1)
    }

    public func handle(_ event: EngineEvent) {
        state.apply(event, now: clock.now)
        dirty = true
    }

    public func wake(now: ContinuousClock.Instant, readable: [CInt]) -> [SupervisorCommand] {
        var commands: [SupervisorCommand] = []
        if readable.contains(signals.readDescriptor) {
            for signal in signals.drain() {
                if signal == .hangup {
                    commands.append(.stop)
                } else {
                    backend.updateSize()
                }
            }
            dirty = true
        }
        if readable.contains(STDIN_FILENO) {
            for key in backend.readKeys() {
                commands += KeyBindings.handle(key, state: &state)
                dirty = true
            }
        }
        if let deadline = nextDeadline, now >= deadline { draw(now: now) }
        return commands
    }

    /// Draws the final frame and gives the terminal back.
    public func finish() {
        draw(now: clock.now)
        backend.stop()
        signals.restore()
    }

    private func draw(now: ContinuousClock.Instant) {
        let size = backend.size
        backend.draw(DashboardView.render(state, width: size.width, height: size.height, now: now))
        lastDraw = now
        dirty = false
    }
}
