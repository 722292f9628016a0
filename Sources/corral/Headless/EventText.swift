import CorralControl
import CorralEngine
import CorralModel
import Glibc

/// How the headless log (and `--log-dir`'s corral.log) words each event: `worker.2 pid=4121
/// running`, without the time; colour only when asked for.
struct EventText {
    /// The slots' names and pids, from the events seen.
    private(set) var names: SlotNames
    let colors: Bool
    /// Control characters in a child's text are shown visibly (`^[`), for a terminal.
    let showsControls: Bool
    let waitTimeout: Duration?
    /// The programs with a wait timeout of their own, in a run of programs.
    var programWaitTimeouts: [String: Duration] = [:]
    /// The control socket's path, told on the first line.
    let control: String?
    /// `--metrics`' address, told on the first line when set.
    var metrics: String?
    /// Whether keys are read (a repeated stop signal's line says how to force-kill).
    var readsKeys = false

    init(names: SlotNames, colors: Bool, showsControls: Bool, waitTimeout: Duration?, control: String?) {
        self.names = names
        self.colors = colors
        self.showsControls = showsControls
        self.waitTimeout = waitTimeout
        self.control = control
    }

    /// Remembers what later events are named by.
    mutating func observe(_ event: EngineEvent) { names.observe(event) }

    /// A child's line, `worker.2 | text` (the prefix red for standard error, in colour).
    func childLine(slot: Int, stream: ChildStream, line: String) -> String {
        let prefix = "\(names.name(slot)) | "
        return (stream == .stderr ? paint(prefix, 31) : prefix) + shown(line)
    }

    /// The line for an event (without the time), or nil for events that print nothing.
    func describe(_ event: EngineEvent) -> String? {
        switch event {
        case .spawned(let slot, let pid, _, let generation):
            return "\(names.name(slot)) pid=\(pid) spawned" + (generation > 0 ? " (generation \(generation))" : "")
        case .stateChanged(let slot, let state, _):
            guard state != .pending else { return nil }
            return "\(subject(slot)) \(paint(state.rawValue, color(state)))"
        case .health(let slot, _, let ok, let failures, let detail):
            if ok { return "\(subject(slot)) healthy again" }
            return paint("\(subject(slot)) health check failed (\(failures) in a row): \(shown(detail))", 31)
        case .reinstated(let slot, let pid, let generation):
            return "\(names.name(slot)) pid=\(pid) serves again (generation \(generation)): its reload was rolled back"
        case .waiting(let slot, let wait, _):
            return "\(subject(slot)) \(wait)"
        case .serverStateChanged(let state):
            if state == .starting {
                let served = metrics.map { ", metrics http://\($0)/metrics" } ?? ""
                return "corral starting (pid \(getpid()), control socket \(control ?? "off: --no-control")\(served))"
            }
            return "corral \(state.rawValue)"
        case .status(let slot, let text):
            return "\(subject(slot)) status: \(shown(text))"
        case .signalSent(let slot, let pid, let signal, let reason, _):
            let why: String
            if reason == .timeout {
                let timeout = programWaitTimeouts[names.processName(slot).program] ?? waitTimeout
                why = timeout.map { " after \($0.countdownText) timeout" } ?? " after the timeout"
            } else {
                why = " (\(reason.explanation))"
            }
            return "\(names.name(slot)) pid=\(pid) \(signal) sent\(why)"
        case .output:
            return nil
        case .exited(let slot, let pid, let end, _):
            var text = "\(names.name(slot)) pid=\(pid) exited: \(end)"
            if end.isClean { return text }
            if !end.lastLines.isEmpty {
                text += "; its last lines on stderr:" + end.lastLines.map { "\n    " + shown($0) }.joined()
            }
            return paint(text, 31)
        case .restartScheduled(let slot, let generation, let attempt, let delay, _):
            // How it ended is on the exited line just before.
            return paint(
                "\(names.name(slot)) backoff: restart in \(delay.countdownText) (attempt \(attempt), generation "
                    + "\(generation))", 33)
        case .reload(let progress):
            let text = "corral \(progress)"
            if case .rolledBack = progress { return paint(text, 31) }
            return text
        case .scaled:
            return "corral \(event)"
        case .scaleRefused(let workers, let reason, let program):
            return paint(
                "corral scale refused: \(reason) (\(EngineEvent.processes(workers, program))\(program.map { " of \($0)" } ?? "") now)",
                31)
        case .slotAdded(_, let name):
            return "corral \(name) added"
        case .failed(let slot, let failure):
            return paint("\(names.name(slot)) failed: \(failure)", 31)
        case .stopping(let signal, let cause, let deadline):
            let escalation =
                deadline == nil
                ? (signal == .kill ? "" : "; waiting without a time limit")
                : "; SIGKILL in \(waitTimeout?.countdownText ?? "?")"
            return "corral stopping with \(signal): \(cause.summary(naming: names.name))\(escalation)"
        case .stopRepeated(let signal, let deadline):
            let left =
                deadline.map { "SIGKILL in \(ContinuousClock.now.duration(to: $0).countdownText)" } ?? "no time limit"
            let hint = readsKeys ? "; type k and Enter to force-kill" : ""
            return "corral already stopping (\(signal) again): nothing sent twice; \(left)\(hint)"
        case .watchdogEnded(let pid, let replacement):
            let next =
                replacement.map { "replaced by pid \($0), every live process group registered with it" }
                ?? "none could be started: a SIGKILL of corral now leaves grandchildren running"
            return paint("corral's watchdog (pid \(pid)) ended: \(next)", 31)
        case .signalIgnored(let signal):
            if signal.rawValue == SIGTSTP {
                return "corral ignores Ctrl-Z (SIGTSTP): suspended, it would leave its workers unsupervised"
            }
            return "corral ignores \(signal)"
        case .stopped(let report):
            let left =
                report.leftBehind.isEmpty
                ? ""
                : "; left behind (they left their worker's process group): "
                    + report.leftBehind.map { shown($0.description) }.joined(separator: ", ")
            return "corral stopped: \(report.causeDescription); exit status \(report.exitStatus)\(left)"
        }
    }

    func subject(_ slot: Int) -> String {
        names.pid(slot).map { "\(names.name(slot)) pid=\($0)" } ?? names.name(slot)
    }

    private func color(_ state: ProcessState) -> Int {
        switch state {
        case .pending: return 0
        case .initializing: return 33
        case .running: return 32
        case .stopping: return 35
        case .unhealthy: return 31
        case .exited: return 0
        case .backoff: return 33
        }
    }

    /// Text a child controls, with its control characters shown visibly (`^[`) when the output
    /// is a terminal, so that no escape sequence of theirs reaches it; as it is otherwise.
    func shown(_ text: String) -> String {
        showsControls ? TerminalText.visible(text) : text
    }

    func paint(_ text: String, _ code: Int) -> String {
        guard colors, code != 0 else { return text }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }
}
