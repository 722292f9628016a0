import CorralControl
import CorralDemo
import CorralEngine
import CorralModel
import CorralProject
import CorralTUI
import Glibc
import Logging
import SystemPackage

/// Runs the settings: builds the front end, runs the demo server or the command, gives the
/// terminal back, and turns the outcome into corral's exit status.
struct ConsoleRun {
    /// Exit status for a bad command line (argument-parser's validation status too).
    static let usageStatus: Int32 = 64
    /// Exit status when corral itself hits a system error.
    static let systemErrorStatus: Int32 = 71

    let settings: ConsoleSettings
    /// Where a project run reads its programs again on a reload (nil: not a project run).
    var programSource: ProgramSource?

    func run() throws -> Int32 {
        var engineLogger = Logger(label: "corral")
        engineLogger.logLevel = .critical
        var configuration = settings.configuration(
            demoTicker: isDemo ? .swift(DemoServer.ticker) : nil)
        configuration.logger = engineLogger
        configuration.programSource = programSource
        let server = Server(configuration: configuration)
        var frontend: ConsoleFrontend?
        defer { frontend?.finish() }
        do {
            let report: SupervisorReport
            switch settings.program {
            case .demo(let port):
                report = try server.run(sharing: DemoShared.self) { launch in
                    let socket = try bindDemo(port: port)
                    defer { Listener.close(socket) }
                    let console = try makeFrontend(configuration)
                    frontend = console
                    return try launch(
                        DemoShared(host: "127.0.0.1", port: port), sockets: [DemoServer.socketName: socket],
                        frontend: console)
                } worker: { worker, shared in
                    try await DemoServer.worker(worker, shared)
                }
            case .command, .programs:
                let sockets = ListenSpec.inherited() + (try bindListens())
                defer { closeListens(sockets) }
                let console = try makeFrontend(configuration)
                frontend = console
                report = try Supervisor(configuration).run(sockets: sockets, frontend: console)
            }
            if case .dashboard(let dashboard) = frontend?.view, report.exitStatus == SupervisorReport.exitChildFailed,
                !settings.exitOnStop
            {
                dashboard.hold("stopped after a failure: press any key to exit")
            }
            frontend?.finish()
            if case .dashboard = frontend?.view {
                print(TerminalText.visible(report.description, keepingNewlines: true))
            }
            return report.exitStatus
        } catch let error as SupervisorError {
            frontend?.finish()
            FileError.write("corral: \(error)")
            return Self.status(for: error)
        } catch let error as UsageError {
            frontend?.finish()
            FileError.write("corral: \(error)")
            return Self.usageStatus
        }
    }

    /// The command the workers run, as the header shows it (nil for the demo).
    private var commandLine: String? {
        if case .programs(let programs, _, let file) = settings.program {
            return "\(file): " + programs.map(\.name).joined(separator: ", ")
        }
        guard case .command(let arguments, _) = settings.program else { return nil }
        var line = ""
        for argument in arguments {
            if line.count > 200 { return line + " …" }
            line +=
                (line.isEmpty ? "" : " ") + (argument.contains(" ") || argument.isEmpty ? "'\(argument)'" : argument)
        }
        return line
    }

    private var isDemo: Bool {
        if case .demo = settings.program { return true }
        return false
    }

    private func bindDemo(port: Int) throws -> FileDescriptor {
        do {
            return try Listener.tcp(host: "127.0.0.1", port: port)
        } catch {
            if error.errno == .addressInUse {
                throw UsageError(description: "port \(port) on 127.0.0.1 is in use; choose another with --port")
            }
            throw UsageError(description: "cannot listen on 127.0.0.1:\(port): \(error)")
        }
    }

    /// Binds every `--listen` socket, or none: one that cannot be bound closes the others.
    private func bindListens() throws -> [ListeningSocket] {
        var bound: [ListeningSocket] = []
        do {
            for spec in settings.listens { bound.append(try spec.bind()) }
        } catch {
            closeListens(bound)
            throw error
        }
        return bound
    }

    /// Closes the `--listen` sockets and removes the Unix socket files corral created.
    private func closeListens(_ sockets: [ListeningSocket]) {
        for (spec, socket) in zip(settings.listens, sockets.suffix(settings.listens.count)) {
            Listener.close(socket.descriptor)
            if case .unix(let path) = spec.address { unlink(path) }
        }
    }

    private func makeFrontend(_ configuration: SupervisorConfiguration) throws -> ConsoleFrontend {
        let facts = TerminalFacts.current
        // A run of programs names its processes web.0, web.1; one command's are worker.N, extra.N.
        let names =
            configuration.programs.isEmpty
            ? [] : (0..<configuration.workers).map(configuration.processName(ofSlot:))
        let output = OutputWriter()
        var model = ServerModel(
            supervisorPid: getpid(), workers: configuration.workers, extras: configuration.extras.count,
            waitTimeout: configuration.waitTimeout, stopSignals: configuration.stopSignals, startedAt: .now,
            command: commandLine, logLimits: settings.logLimits, names: names)
        model.readyTimeout = configuration.readyTimeout ?? configuration.waitTimeout
        model.programFile = configuration.programSource?.name
        for program in configuration.programs {
            let words = program.command
            model.programDependencies[program.name] = program.dependencies.map { dependency in
                dependency.condition == .ready
                    ? dependency.program : "\(dependency.program) (\(dependency.condition.rawValue))"
            }
            model.programCommands[program.name] =
                words.count == 3 && words[0] == "/bin/sh" && words[1] == "-c" ? words[2] : words.joined(separator: " ")
        }
        model.extraCommands =
            (isDemo ? ["the demo's ticker (a Swift extra process)"] : [])
            + settings.extras.map {
                "/bin/sh -c \($0)"
            }
        var logFiles: LogFiles?
        if let files = settings.logFiles {
            do {
                logFiles = try LogFiles(
                    directory: files.directory, maxSize: files.maxSize, backups: files.backups,
                    workers: configuration.workers, waitTimeout: configuration.waitTimeout, names: names)
            } catch {
                throw UsageError(description: "--log-dir \(files.directory): \(error)")
            }
        }
        var metrics: MetricsService?
        if let address = settings.metrics {
            do {
                metrics = try MetricsService(
                    address: address, workers: configuration.workers, names: names,
                    slots: configuration.workers + configuration.extras.count)
            } catch {
                logFiles?.finish()
                throw UsageError(description: "--metrics \(address): \(error)")
            }
        }
        let control: ControlServer?
        do {
            switch settings.control {
            case .off: control = nil
            case .defaultPath:
                control = try ControlServer(path: nil, model: model, notice: FileError.writeWithoutBlocking)
            case .path(let path):
                control = try ControlServer(path: path, model: model, notice: FileError.writeWithoutBlocking)
            }
        } catch {
            metrics?.finish()
            logFiles?.finish()
            throw UsageError(description: error.description)
        }
        let view: ConsoleFrontend.View
        do {
            switch settings.display {
            case .json:
                let json = JSONLines(
                    output: output, workers: configuration.workers, control: control?.path,
                    stopSignal: configuration.stopSignals.first ?? .terminate, names: names)
                json.metrics = metrics?.endpoint.address
                view = .json(json)
            case .log:
                let log = HeadlessLog(
                    output: output, workers: configuration.workers, waitTimeout: configuration.waitTimeout,
                    colors: output.isTerminal && !facts.noColor, control: control?.path,
                    stopSignal: configuration.stopSignals.first ?? .terminate, names: names)
                for program in configuration.programs {
                    if let timeout = program.waitTimeout { log.programWaitTimeouts[program.name] = timeout }
                }
                log.timestamps = settings.timestamps
                log.metrics = metrics?.endpoint.address
                log.journal = Journal.fromEnvironment()
                view = .log(log)
            case .dashboard:
                view = .dashboard(
                    try DashboardFrontend(
                        state: DashboardState(server: model, colors: !facts.noColor),
                        backend: NcursesBackend(colors: !facts.noColor)))
            }
        } catch {
            control?.finish()
            metrics?.finish()
            logFiles?.finish()
            throw error
        }
        if let logFiles {
            let said: (String, Int) -> Void
            switch view {
            case .dashboard(let dashboard): said = { notice, _ in dashboard.update { $0.message = notice } }
            case .log: said = { notice, _ in FileError.writeWithoutBlocking("corral: \(notice)") }
            case .json(let json): said = json.logFilesNotice
            }
            logFiles.say = said
            logFiles.droppedLinesChanged = { [weak control] in control?.logLinesDropped($0) }
        }
        return ConsoleFrontend(
            view: view, control: control, systemd: NotifyClient.fromEnvironment(), logFiles: logFiles,
            metrics: metrics, output: output)
    }

    /// corral's exit status for an engine error.
    static func status(for error: SupervisorError) -> Int32 {
        switch error {
        case .invalidConfiguration: return usageStatus
        case .spawnFailed(let spawn):
            return SupervisorReport.exitStatus(for: spawn)
        case .alreadyRunning, .system, .badWorkerEnvironment:
            return systemErrorStatus
        }
    }
}

/// A mistake in what the operator asked for, found after parsing (a port in use).
struct UsageError: Error, CustomStringConvertible {
    var description: String
}
