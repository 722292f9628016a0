import ArgumentParser
import CorralControl
import CorralEngine
import CorralModel
import CorralTUI
import Glibc
import SystemPackage

/// `corral attach`: the dashboard, on a corral running elsewhere (headless, under systemd, in a
/// closed tmux pane). Every key works as in the local dashboard, except `q`: it detaches and the
/// server keeps running.
struct AttachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach", _superCommandName: "corral",
        abstract: "Show the dashboard of a running corral; q detaches (the server keeps running).",
        discussion: """
            With exactly one corral of yours running, neither --socket nor --pid is needed. Several viewers may \
            attach at once. Stopping the server from here is t, i or K (or corral ctl stop).
            Exit status: 0 detached or the server stopped, 1 refused, 69 no corral answers (or it went away), \
            64 bad usage.
            """)

    @OptionGroup var target: ControlTarget

    func run() throws {
        let facts = TerminalFacts.current
        guard facts.canShowDashboard else {
            throw ControlExit(
                CorralLocator.usageStatus,
                "attach needs a terminal (\(facts.whyNoDashboard ?? "none")): use corral ctl status or corral ctl events"
            )
        }
        let answer = try target.connect()
        try AttachSession(link: answer.link, snapshot: answer.snapshot, colors: !facts.noColor).run()
    }
}

/// One attached viewer: the dashboard fed by the control connection instead of an engine; its
/// keys become commands sent back.
struct AttachSession {
    var link: ControlLink
    let snapshot: WireMessage
    let colors: Bool

    /// Runs until `q`, the end of the server, or the connection lost for good.
    func run() throws {
        let clock = ContinuousClock()
        guard let model = Snapshot.state(snapshot, now: clock.now) else {
            throw ControlExit(CorralLocator.unavailableStatus, "the corral sent a snapshot without its server")
        }
        var state = DashboardState(server: model, colors: colors)
        state.attached = true
        state.program = "corral (attached)"
        // Ctrl-C, a closed terminal or a kill: leave the viewer cleanly; the server is not touched.
        let leave: SignalPipe
        do {
            leave = try SignalPipe(signals: [.interrupt, .terminate, .hangup])
        } catch {
            throw ControlExit(71, "\(error)")
        }
        defer { leave.restore() }
        let frontend = try DashboardFrontend(state: state, backend: NcursesBackend(colors: colors))
        let outcome = follow(frontend, leave: leave, clock: clock)
        frontend.finish()
        switch outcome {
        case .detached:
            print("detached from corral pid \(frontend.state.supervisorPid): it keeps running")
        case .stopped(let ended):
            print(
                "corral pid \(frontend.state.supervisorPid) stopped: \(ended.cause); exit status \(ended.exitStatus)")
        case .lost(let reason):
            throw ControlExit(CorralLocator.unavailableStatus, reason)
        }
    }

    private enum Outcome {
        case detached
        case stopped(ServerModel.Ended)
        case lost(String)
    }

    private func follow(_ frontend: DashboardFrontend, leave: SignalPipe, clock: ContinuousClock) -> Outcome {
        var link = link
        var ended: ServerModel.Ended?
        while true {
            let leaveDescriptor = FileDescriptor(rawValue: leave.readDescriptor)
            var timeout: CInt = -1
            if let deadline = frontend.nextDeadline {
                timeout = CInt(max(0, min(clock.now.duration(to: deadline) / .milliseconds(1) + 1, 1000)))
            }
            let readable: [FileDescriptor]
            do {
                readable = try UnixStream.waitReadable(
                    [link.descriptor, leaveDescriptor] + frontend.descriptors, milliseconds: timeout)
            } catch {
                return .lost("\(error)")
            }
            if readable.contains(leaveDescriptor) { return .detached }
            if readable.contains(link.descriptor) {
                do {
                    try link.readAvailable()
                } catch {
                    return .lost("\(error)")
                }
                while let line = link.takeLine() {
                    guard let message = WireMessage.decode(line) else { continue }
                    switch EventDecoder.line(message, now: clock.now) {
                    case .event(let event): frontend.handle(event)
                    case .stopped(let end):
                        ended = end
                        frontend.update { $0.server.end(end) }
                    case .reply(let ok, let text):
                        if !ok { frontend.update { $0.message = "refused: \(text)" } }
                    case .snapshot, .refused, .unknown: break
                    }
                }
                if link.isFinished {
                    if let ended { return .stopped(ended) }
                    // Dropped (this viewer fell behind) or the corral is gone: a new connection
                    // gets a fresh snapshot, if the corral is still there.
                    guard let again = try? CorralLocator.answer(at: link.path),
                        let model = Snapshot.state(again.snapshot, now: clock.now)
                    else {
                        return .lost("the corral at \(link.path) went away")
                    }
                    link = again.link
                    frontend.update { state in
                        var fresh = DashboardState(server: model, colors: state.colors)
                        fresh.attached = true
                        fresh.program = state.program
                        fresh.selected = min(state.selected, max(0, fresh.rows.count - 1))
                        fresh.message = "reconnected: this viewer had fallen behind"
                        state = fresh
                    }
                }
            }
            let commands = frontend.wake(now: clock.now, readable: readable)
            for command in commands {
                do {
                    try link.send(ControlRequest.encode(command))
                } catch {
                    return .lost("\(error)")
                }
            }
            if frontend.state.detachRequested { return .detached }
        }
    }
}
