import CorralControl
import CorralEngine
import CorralTUI
import SystemPackage

/// The front end corral runs: the dashboard, the headless log or the JSON lines; plus, when
/// corral itself runs under systemd (`NOTIFY_SOCKET` set), `READY=1` once every process is
/// running, `STOPPING=1` when the stop begins, and `STATUS=` lines.
final class ConsoleFrontend: PollingFrontend {
    /// Which view is on.
    enum View {
        case dashboard(DashboardFrontend)
        case log(HeadlessLog)
        case json(JSONLines)
    }

    let view: View
    /// The control socket, unless `--no-control`.
    let control: ControlServer?
    private let systemd: NotifyClient?
    /// `--log-dir`'s files.
    private let logFiles: LogFiles?
    /// `--metrics`, and the headless output whose dropped lines it counts.
    private let metrics: MetricsService?
    private let output: OutputWriter?

    init(
        view: View, control: ControlServer?, systemd: NotifyClient?, logFiles: LogFiles? = nil,
        metrics: MetricsService? = nil, output: OutputWriter? = nil
    ) {
        self.view = view
        self.control = control
        self.systemd = systemd
        self.logFiles = logFiles
        self.metrics = metrics
        self.output = output
    }

    private var primary: any PollingFrontend {
        switch view {
        case .dashboard(let dashboard): return dashboard
        case .log(let log): return log
        case .json(let json): return json
        }
    }

    var descriptors: [FileDescriptor] {
        primary.descriptors + (control?.descriptors ?? []) + (logFiles?.descriptors ?? [])
    }

    var holdsOutput: Bool { logFiles?.holdsOutput ?? false }

    var writeDescriptors: [FileDescriptor] { primary.writeDescriptors + (control?.writeDescriptors ?? []) }

    var nextDeadline: ContinuousClock.Instant? {
        [primary.nextDeadline, control?.nextDeadline].compactMap { $0 }.min()
    }

    func handle(_ event: EngineEvent) {
        handle(event, at: .now)
    }

    func handle(_ event: EngineEvent, at instant: ContinuousClock.Instant) {
        metrics?.handle(event, at: instant)
        primary.handle(event)
        control?.handle(event)
        logFiles?.handle(event)
        guard let systemd else { return }
        switch event {
        case .serverStateChanged(.running):
            try? systemd.ready()
            try? systemd.status("every process is running")
        case .reload(.started):
            try? systemd.reloading()
            try? systemd.status("reloading")
        case .reload(let progress):
            try? systemd.ready()
            try? systemd.status(progress.description)
        case .stopping(let signal, let cause, _):
            try? systemd.stopping()
            try? systemd.status("stopping with \(signal): \(cause)")
        default:
            break
        }
    }

    func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand] {
        logFiles?.wake(readable: readable)
        metrics?.endTurn(
            outputDroppedLines: output?.droppedLines ?? 0, logDroppedLines: logFiles?.droppedLines ?? 0)
        return primary.wake(now: now, readable: readable) + (control?.wake(now: now, readable: readable) ?? [])
    }

    /// Gives the terminal back (dashboard), or writes what is still waiting, giving a stalled
    /// reader at most a second (headless); closes the control socket and removes it.
    func finish() {
        logFiles?.finish()
        metrics?.finish()
        control?.finish()
        switch view {
        case .dashboard(let dashboard): dashboard.finish()
        case .log(let log): log.finish()
        case .json(let json): json.finish()
        }
    }
}
