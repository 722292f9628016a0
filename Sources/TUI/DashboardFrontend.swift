import CorralEngine
import CorralModel
import Glibc
import SystemPackage

/// The dashboard as an engine front end: folds events into ``DashboardState``, turns keys into
/// commands, and redraws through ``NcursesBackend`` — at most ~30 times a second while things
/// change, once a second when idle (the uptime), ten times a second during a countdown.
package final class DashboardFrontend: PollingFrontend {
    /// The state on screen.
    package private(set) var state: DashboardState
    private let backend: NcursesBackend
    private let signals: SignalPipe
    private let clock = ContinuousClock()
    private var dirty = true
    private var lastDraw: ContinuousClock.Instant
    private let frameInterval = Duration.milliseconds(33)
    /// Where keys come from; nil once it reached end of file (or for a dashboard without keys).
    private var input: CInt?
    /// CPU and memory of each process tree, sampled about once a second while the dashboard runs.
    private var sampler = ProcessTreeSampler()
    private var nextSample: ContinuousClock.Instant

    /// Takes over the terminal. `SIGWINCH` (resize) is watched while the dashboard runs, and so
    /// is the end of `input` (the terminal gone without a `SIGHUP`; the engine stops on
    /// `SIGHUP`, a terminating signal). Pass nil for a dashboard without keys.
    package init(state: DashboardState, backend: NcursesBackend, input: CInt? = STDIN_FILENO) throws {
        self.state = state
        self.backend = backend
        self.input = input
        signals = try SignalPipe(signals: [Signal(rawValue: SIGWINCH)])
        do {
            try backend.start()
        } catch {
            signals.restore()
            throw error
        }
        lastDraw = clock.now - .seconds(1)
        nextSample = clock.now + .seconds(1)
    }

    package var descriptors: [FileDescriptor] {
        ((input.map { [$0] } ?? []) + [signals.readDescriptor]).map(FileDescriptor.init(rawValue:))
    }

    package var nextDeadline: ContinuousClock.Instant? {
        min(nextSample, nextDraw)
    }

    private var nextDraw: ContinuousClock.Instant {
        if dirty { return lastDraw + frameInterval }
        // Countdowns (to SIGKILL, to a restart) move in tenths of a second.
        if state.stopping != nil && state.ended == nil || state.rows.contains(where: { $0.state == .backoff }) {
            return lastDraw + .milliseconds(100)
        }
        return lastDraw + .seconds(1)
    }

    package func handle(_ event: EngineEvent) {
        state.apply(event, now: clock.now)
        dirty = true
    }

    package func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand] {
        var commands: [SupervisorCommand] = []
        let readable = readable.map(\.rawValue)
        if readable.contains(signals.readDescriptor) {
            if !signals.drain().isEmpty { backend.updateSize() }
            dirty = true
        }
        if let input, readable.contains(input) {
            let (keys, readAnything) = backend.readKeys()
            // Readable with nothing to read: end of file, the terminal is gone (a closed terminal
            // does not always send SIGHUP to us). Stop polling it, or poll would spin, and stop
            // the server gracefully, as for SIGHUP.
            if !readAnything {
                self.input = nil
                if state.attached {
                    state.detachRequested = true
                } else {
                    state.message = "the terminal closed: stopping"
                    commands.append(.stop)
                }
            }
            state.logPageSize = DashboardView.logLines(state, height: backend.size.height)
            for key in keys {
                commands += KeyBindings.handle(key, state: &state)
                dirty = true
            }
        }
        if now >= nextSample { sample(now: now) }
        if now >= nextDraw { draw(now: now) }
        return commands
    }

    /// Changes the state from outside the engine (a viewer attached elsewhere applies what its
    /// corral sends); the screen is redrawn.
    package func update(_ change: (inout DashboardState) -> Void) {
        change(&state)
        dirty = true
    }

    /// Keeps the final screen up, with `message`, until a key is pressed, the terminal goes
    /// away or a terminating signal arrives (the server has stopped: nothing else waits). Returns
    /// at once for a dashboard without keys.
    package func hold(_ message: String) {
        guard let input else { return }
        state.message = message
        guard let held = try? SignalPipe(signals: [.interrupt, .terminate, .hangup, Signal(rawValue: SIGQUIT)]) else {
            return
        }
        defer { held.restore() }
        draw(now: clock.now)
        while true {
            var fds = [
                pollfd(fd: input, events: Int16(POLLIN), revents: 0),
                pollfd(fd: held.readDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: signals.readDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            guard poll(&fds, 3, -1) >= 0 || errno == EINTR else { return }
            if fds[1].revents != 0 { return }
            if fds[2].revents != 0, !signals.drain().isEmpty {
                backend.updateSize()
                draw(now: clock.now)
            }
            if fds[0].revents != 0 {
                let (keys, readAnything) = backend.readKeys()
                // A resize arrives as a key too; any other key, or the end of input, ends the hold.
                if !readAnything || !keys.isEmpty { return }
                draw(now: clock.now)
            }
        }
    }

    /// Draws the final frame and gives the terminal back.
    package func finish() {
        draw(now: clock.now)
        backend.stop()
        signals.restore()
    }

    /// Samples every live process tree's CPU and memory.
    private func sample(now: ContinuousClock.Instant) {
        var slots: [pid_t: Int] = [:]
        for row in state.rows where row.end == nil {
            if let pid = row.pid { slots[pid] = row.index }
        }
        let usage = sampler.sample(Array(slots.keys), now: now)
        state.server.updateUsage(
            Dictionary(uniqueKeysWithValues: usage.compactMap { pid, value in slots[pid].map { ($0, value) } }))
        nextSample = now + .seconds(1)
        dirty = true
    }

    private func draw(now: ContinuousClock.Instant) {
        let size = backend.size
        backend.draw(DashboardView.render(state, width: size.width, height: size.height, now: now))
        lastDraw = now
        dirty = false
    }
}
