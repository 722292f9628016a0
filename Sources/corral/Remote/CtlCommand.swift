import ArgumentParser
import CorralControl
import CorralEngine
import CorralModel
import Glibc

/// `corral ctl`: one command to a running corral, for scripts and operators.
struct CtlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl", _superCommandName: "corral",
        abstract: "Show or steer a running corral through its control socket.",
        discussion: """
            With exactly one corral of yours running, neither --socket nor --pid is needed.
            Exit status: 0 done, 1 refused (the reason is printed), 69 no corral answers, 64 bad usage.
            """,
        subcommands: [
            StatusCommand.self, EventsCommand.self, SignalProcessCommand.self, RestartCommand.self, ReloadCommand.self,
            ScaleCommand.self, StopCommand.self, KillCommand.self,
        ])

    @OptionGroup var target: ControlTarget

    /// `status [--json]`: a table, or the snapshot as one JSON object.
    struct StatusCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "The server and every process: a table, or one JSON object with --json.",
            discussion: """
                With --ready: exit 0 when the server runs and every process that should run is running (a
                container's readiness probe), else 1 with the reason on standard error.
                """)
        @ParentCommand var ctl: CtlCommand
        @Flag(help: "One JSON object: {\"server\": {...}, \"processes\": [...]}.")
        var json = false
        @Flag(help: "Exit 0 when every process that should run is running, else 1 with the reason.")
        var ready = false

        func run() throws {
            let answer = try ctl.target.connect()
            let now = ContinuousClock.now
            guard let state = Snapshot.state(answer.snapshot, now: now) else {
                throw ControlExit(CorralLocator.unavailableStatus, "the corral sent a snapshot without its server")
            }
            let control = answer.snapshot.server?.control ?? answer.link.path
            if ready {
                if let reason = state.notReadyReason {
                    throw ControlExit(CorralLocator.refusedStatus, "not ready: \(reason)")
                }
                let count = state.runningCount
                print("ready: \(count.running)/\(count.total) running")
                return
            }
            if json {
                print(Snapshot.body(state, control: control, now: now).encoded)
            } else {
                print(StatusTable.render(state, control: control, now: now))
            }
        }
    }

    /// `events`: the JSON stream until the server stops or this is interrupted.
    struct EventsCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "events",
            abstract: "Every event as JSON lines (the --json schema), until the server stops or Ctrl-C.")
        @ParentCommand var ctl: CtlCommand

        func run() throws {
            let answer = try ctl.target.connect()
            var stopped = false
            while true {
                let line: ArraySlice<UInt8>?
                do {
                    line = try answer.link.nextLine(timeout: nil)
                } catch {
                    throw ControlExit(CorralLocator.unavailableStatus, "\(error)")
                }
                guard let line else { break }
                if WireMessage.decode(line)?.event == "stopped" { stopped = true }
                StandardOutput.write(line)
            }
            if !stopped {
                throw ControlExit(CorralLocator.unavailableStatus, "the connection ended before the server stopped")
            }
        }
    }

    /// Every process, a slot's serving process, or one generation of it.
    static func target(index: Int?, generation: Int?) -> SlotTarget {
        guard let index else { return .all }
        return generation.map { .process(slot: index, generation: $0) } ?? .slot(index)
    }

    /// `signal SIG [NAME] [--index N [--generation G]]`.
    struct SignalProcessCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "signal",
            abstract: "Send a signal to every process, to a program's, or to one by name or with --index.")
        @ParentCommand var ctl: CtlCommand
        @Argument(help: "The signal: TERM, SIGTERM, INT, HUP, USR1, 15, …")
        var signal: String
        @Argument(
            help: "One process by name (web.1, worker.0), or every process of a program (web); default: every process.")
        var name: String?
        @Option(help: "The process's index (default: every process; a stop signal to all stops the server).")
        var index: Int?
        @Option(
            help: ArgumentHelp(
                "With --index: that generation of the process (during a reload, the old one or the new one; "
                    + "default: the one serving)."))
        var generation: Int?

        func validate() throws {
            guard Signal(parsing: signal) != nil else {
                throw ValidationError("unknown signal '\(signal)'; use names like TERM, INT, HUP, USR1")
            }
            if generation != nil, index == nil { throw ValidationError("--generation needs --index") }
            if name != nil, index != nil { throw ValidationError("name a process or give --index, not both") }
        }

        func run() throws {
            guard let parsed = Signal(parsing: signal) else { return }
            try ctl.target.send(
                .signal(parsed, to: CtlCommand.target(index: index, generation: generation)), naming: name)
        }
    }

    /// `restart N` or `restart NAME`.
    struct RestartCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restart",
            abstract: "Restart one process: its stop signal, then its next generation.")
        @ParentCommand var ctl: CtlCommand
        @Argument(help: "The process: its index (2) or its name (web.1).")
        var process: String

        func run() throws {
            if let index = Int(process) {
                try ctl.target.send(.restart(slot: index))
            } else {
                try ctl.target.send(.restart(slot: 0), naming: process)
            }
        }
    }

    /// `reload [PROGRAM…]`.
    struct ReloadCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reload",
            abstract:
                "Reload every worker, new before old; a project run reads its file again and applies the changes.",
            discussion: """
                With program names, those programs are reloaded whether their definition changed or not.
                Without, a run of a corral.toml or Procfile reads it (and its env files) again: programs added
                start, removed ones stop, changed ones roll new before old, unchanged ones are not touched;
                a file that no longer reads changes nothing, and the reply says why.
                """)
        @ParentCommand var ctl: CtlCommand
        @Argument(help: "Programs to reload (web worker); default: every program, or the file's changes.")
        var programs: [String] = []

        func run() throws { try ctl.target.send(programs.isEmpty ? .reload : .reloadPrograms(programs)) }
    }

    /// `scale N` or `scale PROGRAM=N…`.
    struct ScaleCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "scale", abstract: "Run this many workers, or this many processes of a program (web=4).")
        @ParentCommand var ctl: CtlCommand
        @Argument(
            help: ArgumentHelp(
                "N (the workers, or the one program's processes), or PROGRAM=N for each program to scale; N from 1 "
                    + "to \(SupervisorConfiguration.maximumWorkers).", valueName: "COUNT"))
        var counts: [String]

        /// Each count asked for: a program's (`web=4`), or the workers' (nil program).
        func parsed() throws -> [(program: String?, workers: Int)] {
            try counts.map { text in
                let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let program = parts.count == 2 ? parts[0] : nil
                guard let workers = Int(parts.last ?? ""), program?.isEmpty != true else {
                    throw ValidationError("'\(text)' is not a count: give N or PROGRAM=N (web=4)")
                }
                guard (1...SupervisorConfiguration.maximumWorkers).contains(workers) else {
                    throw ValidationError(
                        "\(program.map { "\($0): " } ?? "")workers must be between 1 and "
                            + "\(SupervisorConfiguration.maximumWorkers) (got \(workers))")
                }
                return (program, workers)
            }
        }

        func validate() throws {
            let counts = try parsed()
            if counts.count > 1, counts.contains(where: { $0.program == nil }) {
                throw ValidationError("give one count N, or PROGRAM=N for each program")
            }
        }

        func run() throws {
            for count in try parsed() {
                try ctl.target.send(
                    count.program.map { .scaleProgram($0, workers: count.workers) } ?? .scale(workers: count.workers))
            }
        }
    }

    /// `stop`.
    struct StopCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stop",
            abstract: "Stop the server gracefully with its first stop signal (SIGKILL after the wait timeout).")
        @ParentCommand var ctl: CtlCommand

        func run() throws { try ctl.target.send(.stop) }
    }

    /// `kill`.
    struct KillCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kill",
            abstract: "Force-kill: SIGKILL to every process group now (or to a program's, or one by name or --index).")
        @ParentCommand var ctl: CtlCommand
        @Argument(help: "One process by name (web.1), or a program (web); default: every process.")
        var name: String?
        @Option(help: "The process's index (default: every process, which ends the server).")
        var index: Int?
        @Option(help: "With --index: that generation of the process (default: the one serving).")
        var generation: Int?

        func validate() throws {
            if generation != nil, index == nil { throw ValidationError("--generation needs --index") }
            if name != nil, index != nil { throw ValidationError("name a process or give --index, not both") }
        }

        func run() throws {
            try ctl.target.send(.forceKill(CtlCommand.target(index: index, generation: generation)), naming: name)
        }
    }
}

/// `--socket PATH | --pid PID`: which corral a client command talks to.
struct ControlTarget: ParsableArguments {
    @Option(help: ArgumentHelp("The corral's control socket.", valueName: "PATH"))
    var socket: String?

    @Option(help: ArgumentHelp("The corral's pid (its socket in the default directory).", valueName: "PID"))
    var pid: Int32?

    func validate() throws {
        if socket != nil && pid != nil { throw ValidationError("--socket and --pid exclude each other: give one") }
        if let pid, pid <= 0 { throw ValidationError("--pid must be a process id (got \(pid))") }
    }

    /// Connects to the corral these options name.
    func connect() throws -> CorralLocator.Answer {
        try CorralLocator.connect(socket: socket, pid: pid)
    }

    /// Whether a line is a reply, told without decoding it (`"event":"reply"` comes right
    /// after the time).
    static func isReply(_ line: ArraySlice<UInt8>) -> Bool {
        let marker = Array(#""event":"reply""#.utf8)
        let head = Array(line.prefix(64))
        guard head.count >= marker.count else { return false }
        return (0...(head.count - marker.count)).contains { head[$0..<$0 + marker.count].elementsEqual(marker) }
    }

    /// Sends `command` and prints the reply; a refusal exits with status 1.
    /// Sends `command`; with `name`, to the process of that name (the server resolves it).
    func send(_ command: SupervisorCommand, naming name: String? = nil) throws {
        let answer = try connect()
        do {
            // Replies only: under an output flood the events would only be skipped.
            try answer.link.send(
                "{\"command\":\"unsubscribe\"}\n" + ControlRequest.encode(command, naming: name))
            var replies = 0
            while let line = try answer.link.nextLine(timeout: .seconds(10)) {
                guard Self.isReply(line), let message = WireMessage.decode(line) else { continue }
                replies += 1
                if replies == 1 { continue }
                if message.ok == true {
                    print("ok: \(message.text ?? message.command ?? "done")")
                    return
                }
                throw ControlExit(CorralLocator.refusedStatus, "refused: \(message.error ?? "no reason given")")
            }
        } catch let error as ControlLinkError {
            throw ControlExit(CorralLocator.unavailableStatus, "\(error)")
        }
        throw ControlExit(
            CorralLocator.unavailableStatus,
            answer.link.timedOut ? "the corral did not answer within 10 s" : "the corral hung up before it answered")
    }
}

/// Ends a client command: prints `corral: <message>` to standard error and exits with
/// `status` (``CorralLocator/unavailableStatus``, ``CorralLocator/refusedStatus``, …).
struct ControlExit: Error, CustomStringConvertible {
    var status: Int32
    var description: String
    /// Whether the message is printed after `corral: ` (not for lines that name their file).
    var prefixed = true

    init(_ status: Int32, _ description: String, prefixed: Bool = true) {
        self.status = status
        self.description = description
        self.prefixed = prefixed
    }
}
