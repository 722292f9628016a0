import CorralEngine
import CorralModel
import Glibc
import SystemPackage

/// corral's control socket (`--control`): a Unix stream socket where `corral ctl`, `corral
/// attach` and scripts get a snapshot, then every event as `--json` writes it, and send the
/// same commands as the dashboard's keys. Runs on the driver thread as a front end; it never
/// waits for a client (see ``ControlPeer``). Only the same user as corral, or root, is served.
package final class ControlServer: PollingFrontend {
    /// Clients served at once; more are refused.
    package static let maximumClients = 64
    /// Output lines a new client gets in its snapshot.
    package static let snapshotOutputLines = 200

    /// The socket's path.
    package let path: String
    private var listener: FileDescriptor?
    private var peers: [ControlPeer] = []
    private var model: ServerModel
    /// Tells the operator of a trouble the server works around.
    private let notice: (String) -> Void
    private var encoder: EventEncoder
    private var recent = RecentOutput(capacity: snapshotOutputLines)
    private let clock = ContinuousClock()
    private let uid = geteuid()
    /// Output lines relayed so far (clients count what they missed against it).
    private var outputCount = 0
    /// How much output the clients are sent.
    private var budget: OutputBudget
    /// Whether some client takes output lines, decided at the first line of a driver iteration
    /// and kept until the next wake (or until none takes more): nil when not decided yet.
    private var outputOpen: Bool?

    /// Binds the socket: at `path`, or at the default path (``ControlDirectory``). A socket
    /// left at the path by a corral that was killed is replaced; a live one is not, and
    /// nothing else at the path is ever removed. `notice` tells the operator of a trouble the
    /// server works around (it must not block).
    package init(path: String?, model: ServerModel, notice: @escaping (String) -> Void) throws(ControlSetupError) {
        self.notice = notice
        if let path {
            let parent = Self.directory(of: path)
            guard (try? FileSystem.status(parent, followingLinks: true))??.isDirectory == true else {
                throw ControlSetupError("--control \(path): the directory \(parent) does not exist")
            }
            self.path = path
        } else {
            self.path = "\(try ControlDirectory.prepare())/\(getpid()).sock"
        }
        try Self.clearStale(self.path)
        do {
            listener = try Listener.unix(path: self.path, backlog: 64)
        } catch {
            throw ControlSetupError("cannot listen on the control socket \(self.path): \(error)")
        }
        FileSystem.setPermissions(self.path, 0o600)
        self.model = model
        self.encoder = EventEncoder(workers: model.workerCount, names: model.names, control: self.path)
        self.budget = OutputBudget(now: clock.now)
    }

    /// Removes a stale socket at `path` (nothing answers it); refuses a live one or a non-socket.
    private static func clearStale(_ path: String) throws(ControlSetupError) {
        let status: FileSystem.Status?
        do {
            status = try FileSystem.status(path)
        } catch {
            throw ControlSetupError("cannot check the control socket path \(path): \(error)")
        }
        guard let status else { return }
        guard status.isSocket else {
            throw ControlSetupError("\(path) exists and is not a socket: choose another --control path")
        }
        do {
            let connection = try UnixStream.connect(path: path)
            UnixStream.close(connection)
        } catch {
            guard error.errno == .connectionRefused else {
                throw ControlSetupError("cannot check the socket at \(path): \(error)")
            }
            // Nothing listens: a corral that was killed left it.
            FileSystem.remove(path)
            return
        }
        throw ControlSetupError("another corral is listening on \(path): choose another --control path")
    }

    /// The directory part of `path` (`.` for a bare name).
    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    package var descriptors: [FileDescriptor] {
        // While accepting fails (no descriptor left), the listener is not polled: it would be
        // readable at once, again and again.
        let listening = acceptPausedUntil == nil ? listener : nil
        return (listening.map { [$0] } ?? []) + peers.map(\.descriptor)
    }

    /// While accepting fails: when to try again, the pause (doubled on each failure, up to a
    /// second), and whether that was said.
    private var acceptPausedUntil: ContinuousClock.Instant?
    private var acceptPause: Duration = .milliseconds(50)
    private var acceptFailureReported = false
    /// Clients whose `reload` reads the programs' file again: answered once the engine says what
    /// it changed (or why it changed nothing).
    private var awaitingFileReload: [(peer: ControlPeer, id: WireID?)] = []

    package var writeDescriptors: [FileDescriptor] { peers.filter(\.isBlocked).map(\.descriptor) }

    package var nextDeadline: ContinuousClock.Instant? {
        guard !peers.isEmpty else { return acceptPausedUntil }
        return
            (peers.compactMap(\.partialSince).map { $0 + ControlPeer.partialLineLimit }
            + peers.compactMap(\.stallDeadline) + peers.compactMap(\.flushDeadline)
            + [acceptPausedUntil].compactMap { $0 }).min()
    }

    package func handle(_ event: EngineEvent) {
        if case .output(let slot, let stream, let line) = event {
            recent.append(RecentOutput.Line(slot: slot, stream: stream, text: line))
            outputCount += 1
            // Encoded only within the budget and for a client with room: over it, a flood costs
            // no more with clients attached than without.
            guard !peers.isEmpty, outputOpen != false else { return }
            let now = clock.now
            guard outputOpen == true || (budget.allows(now: now) && peers.contains(where: \.takesOutput)) else {
                outputOpen = false
                return
            }
            let encoded = encoder.encode(event, time: WallClock.iso8601(), now: now)
            budget.spend(encoded.utf8.count + 1)
            for peer in peers { peer.enqueueOutput(encoded, index: outputCount, now: now) }
            outputOpen = budget.allows(now: now) && peers.contains(where: \.takesOutput)
            return
        }
        encoder.observe(event)
        let now = clock.now
        model.apply(event, now: now)
        defer { answerFileReloads(after: event) }
        guard peers.contains(where: \.subscribed) else { return }
        // What a client missed is told before the end.
        if case .stopped = event {
            for peer in peers where peer.subscribed {
                peer.tellDroppedOutput(outputCount: outputCount, now: now, force: true)
            }
        }
        let line = encoder.encode(event, time: WallClock.iso8601(), now: now)
        for peer in peers where peer.subscribed { peer.enqueue(line) }
    }

    /// Records how many lines `--log-dir` dropped so far (for the snapshot and `ctl status`).
    package func logLinesDropped(_ count: Int) {
        model.logDroppedLines = count
    }

    /// Answers the clients waiting for a file reload's outcome, once it is known.
    private func answerFileReloads(after event: EngineEvent) {
        guard !awaitingFileReload.isEmpty else { return }
        let error: String?
        let text: String?
        switch event {
        case .reload(.programsRead(let changes)):
            error = nil
            text = "\(model.programFile ?? "the file") read again: \(changes.summary)"
        case .reload(.refused(let reason)):
            error = "\(model.programFile ?? "the file") not applied, nothing changed:\n\(reason)"
            text = nil
        case .stopped:
            error = "the server stopped before the file was read again"
            text = nil
        default:
            return
        }
        for waiting in awaitingFileReload {
            waiting.peer.enqueue(reply(id: waiting.id, command: "reload", error: error, text: text))
        }
        awaitingFileReload.removeAll()
    }

    package func wake(now: ContinuousClock.Instant, readable: [FileDescriptor]) -> [SupervisorCommand] {
        var commands: [SupervisorCommand] = []
        outputOpen = nil
        if let paused = acceptPausedUntil, now >= paused { acceptPausedUntil = nil }
        if let listener, acceptPausedUntil == nil, readable.contains(listener) || acceptPause > .milliseconds(50) {
            acceptAll(listener, now: now)
        }
        for peer in peers where readable.contains(peer.descriptor) {
            // Whole lines are answered even from a client that then closed its end.
            for line in peer.receive(now: now) {
                let (command, wellFormed) = answer(line, from: peer)
                if let command { commands.append(command) }
                if !wellFormed { break }
            }
        }
        for peer in peers {
            if let since = peer.partialSince, now >= since + ControlPeer.partialLineLimit {
                peer.close(because: "left a command half-written")
            }
            peer.flush(now: now, outputCount: outputCount)
        }
        closeFinished()
        return commands
    }

    /// Answers one line from a client: the command it asks for, if one is granted; and whether
    /// the line was well-formed (a malformed one closes the client: nothing after it is read).
    private func answer(_ line: [UInt8], from peer: ControlPeer) -> (SupervisorCommand?, wellFormed: Bool) {
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { return (nil, true) }
        guard let request = WireMessage.decode(line), request.event == nil else {
            peer.enqueue(reply(id: nil, command: nil, error: "not a JSON command: the connection is closed"))
            peer.close(because: "sent a line that is not a JSON command")
            return (nil, false)
        }
        if request.command == "subscribe" || request.command == "unsubscribe" {
            let subscribe = request.command == "subscribe"
            // Back on: a fresh snapshot first, as on connect.
            if subscribe && !peer.subscribed {
                peer.enqueue(snapshotLine(now: clock.now))
            }
            peer.subscribe(subscribe, outputCount: outputCount)
            peer.enqueue(
                reply(
                    id: request.id, command: request.command, error: nil,
                    text: subscribe ? "events on" : "events off: replies only"))
            return (nil, true)
        }
        switch ControlRequest.command(request, state: model) {
        case .success(.reload) where model.programFile != nil:
            awaitingFileReload.append((peer, request.id))
            return (.reload, true)
        case .success(let command):
            peer.enqueue(
                reply(
                    id: request.id, command: request.command, error: nil,
                    text: ControlRequest.describe(command, state: model)))
            return (command, true)
        case .failure(let refusal):
            peer.enqueue(reply(id: request.id, command: request.command, error: refusal.reason))
            return (nil, true)
        }
    }

    /// The snapshot line a client starts with (on connect, and when it subscribes again).
    private func snapshotLine(now: ContinuousClock.Instant) -> String {
        Snapshot.encode(model, control: path, output: recent.lines, time: WallClock.iso8601(), now: now)
    }

    private func reply(id: WireID?, command: String?, error: String?, text: String? = nil) -> String {
        var object = JSONObject()
        object["time"] = .string(WallClock.iso8601())
        object["event"] = .string("reply")
        if let id { object["id"] = id.json }
        object["command"] = command.map { .string($0) } ?? .null
        object["ok"] = .bool(error == nil)
        if let error { object["error"] = .string(error) }
        if let text { object["text"] = .string(text) }
        return object.encoded
    }

    private func acceptAll(_ listener: FileDescriptor, now: ContinuousClock.Instant) {
        while true {
            let connection: FileDescriptor?
            do {
                connection = try UnixStream.accept(listener)
            } catch {
                // EMFILE and the like: the client waits in the backlog; stop polling the
                // listener for a while (never spin on it), then try again.
                acceptPausedUntil = now + acceptPause
                acceptPause = min(acceptPause * 2, .seconds(1))
                if !acceptFailureReported {
                    acceptFailureReported = true
                    notice(
                        "corral: the control socket cannot accept a client now (\(error.errno)): trying again, "
                            + "at most once a second; the clients wait meanwhile")
                }
                return
            }
            guard let connection else {
                acceptPause = .milliseconds(50)
                return
            }
            acceptPause = .milliseconds(50)
            let peer = ControlPeer(descriptor: connection, now: now, outputCount: outputCount)
            if let reason = refusal(of: connection) {
                var object = JSONObject()
                object["time"] = .string(WallClock.iso8601())
                object["event"] = .string("refused")
                object["reason"] = .string(reason)
                peer.enqueue(object.encoded)
                peer.close(because: reason)
                peer.flush()
                UnixStream.close(connection)
                continue
            }
            peer.enqueue(snapshotLine(now: now))
            peers.append(peer)
        }
    }

    /// Why a new connection is not served, or nil.
    private func refusal(of connection: FileDescriptor) -> String? {
        guard let peer = try? UnixStream.peer(of: connection) else {
            return "corral could not tell who you are (SO_PEERCRED)"
        }
        guard peer.uid == uid || peer.uid == 0 else {
            return "permission denied: this corral (pid \(getpid())) belongs to uid \(uid); "
                + "only that user or root may control it (you are uid \(peer.uid))"
        }
        guard peers.count < Self.maximumClients else {
            return "too many clients: this corral serves \(Self.maximumClients) at once"
        }
        return nil
    }

    /// Closes the clients marked to be closed, once what they were sent last is written (or
    /// cannot be).
    private func closeFinished() {
        peers.removeAll { peer in
            guard peer.closing != nil else { return false }
            peer.flush()
            UnixStream.close(peer.descriptor)
            return true
        }
    }

    /// Writes what waits for the clients (a client that does not read gets at most a second
    /// in all), closes them, and removes the socket.
    package func finish() {
        if let listener {
            UnixStream.close(listener)
            FileSystem.remove(path)
            self.listener = nil
        }
        let deadline = clock.now + .seconds(1)
        while peers.contains(where: { $0.queuedCount > 0 }), clock.now < deadline {
            for peer in peers { peer.flush() }
            let waiting = peers.filter { $0.queuedCount > 0 }
            if waiting.isEmpty { break }
            _ = try? UnixStream.waitWritable(waiting.map(\.descriptor), milliseconds: 50)
        }
        for peer in peers { UnixStream.close(peer.descriptor) }
        peers.removeAll()
    }
}
