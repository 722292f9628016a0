import ArgumentParser
import CorralDemo
import CorralEngine
import CorralModel
import CorralProject
import Glibc
import Logging

/// From the parsed options to the settings a run uses: every value checked, every error a
/// usage error that names the option.
extension CorralCommand {
    /// --health-failures, or its default (written in its help, as for every number: see
    /// `ProjectFileOptions.portBase`).
    var healthFailures: Int { healthFailuresGiven ?? 3 }
    /// --log-lines, or its default.
    var logLines: Int { logLinesGiven ?? 10_000 }
    /// --port, or its default.
    var port: Int { portGiven ?? 8080 }
    /// --max-restarts, or its default.
    var maxRestarts: Int { maxRestartsGiven ?? 5 }
    /// --log-backups, or its default.
    var logBackups: Int { logBackupsGiven ?? 5 }

    /// The validated settings; the display falls back to headless when there is no terminal.
    func settings(terminal: TerminalFacts) throws -> ConsoleSettings {
        let program: ConsoleSettings.Workload
        let project = projectFile
        if !command.isEmpty, self.project.file != nil {
            throw ValidationError("-f runs a project file: give either -f FILE or a command after --, not both")
        }
        if let project {
            do {
                program = .programs([], readiness: try Readiness(parsing: ready), file: project)
            } catch {
                throw ValidationError("--ready: \(error.problem)")
            }
        } else if command.isEmpty {
            guard (1...65535).contains(port) else {
                throw ValidationError("--port must be between 1 and 65535 (got \(port))")
            }
            program = .demo(port: port)
        } else {
            do {
                program = .command(command, readiness: try Readiness(parsing: ready))
            } catch {
                throw ValidationError("--ready: \(error.problem)")
            }
        }
        let count = workers ?? (command.isEmpty ? 4 : 1)
        guard (1...SupervisorConfiguration.maximumWorkers).contains(count) else {
            throw ValidationError(
                "--workers must be between 1 and \(SupervisorConfiguration.maximumWorkers) (got \(count))")
        }
        for extra in extras where extra.allSatisfy({ $0 == " " || $0 == "\t" }) {
            throw ValidationError("--extra needs a command, e.g. --extra 'python3 metrics.py'")
        }
        let (restartPolicy, backoff) = try restartSettings()
        guard let access = NotifyAccess(rawValue: notifyAccess) else {
            throw ValidationError("--notify-access must be main or all (got '\(notifyAccess)')")
        }
        var listens: [ListenSpec] = []
        for (position, text) in listen.enumerated() {
            do {
                listens.append(try ListenSpec(parsing: text, position: position))
            } catch {
                throw ValidationError(error.description)
            }
        }
        var names: Set<String> = []
        for spec in listens where !names.insert(spec.name).inserted {
            throw ValidationError(
                "--listen: the name '\(spec.name)' is given twice; each socket needs a name of its own (LISTEN_FDNAMES)"
            )
        }
        if !listens.isEmpty, command.isEmpty, project == nil {
            throw ValidationError("--listen hands sockets to a command's workers: give the command after --")
        }
        var settings = ConsoleSettings(
            program: program, workers: count, extras: extras, stopSignals: try Self.parseSignals(stopSignals),
            waitTimeout: try Self.parseTimeout(waitTimeout), failurePolicy: keepRunning ? .keepRunning : .stopAll,
            display: json ? .json : (noTUI || !terminal.canShowDashboard ? .log : .dashboard), exitOnStop: exitOnStop,
            restartPolicy: restartPolicy, restartBackoff: backoff, listens: listens,
            reloadBatch: try reloadBatchValue(),
            readyTimeout: try readyTimeoutValue(), notifyAccess: access)
        settings.timestamps = !noTimestamps
        if let logDirectory {
            guard !logDirectory.isEmpty else { throw ValidationError("--log-dir needs a directory") }
            let size = try Self.parseSize(logMaxSize, option: "--log-max-size")
            guard (0...1000).contains(logBackups) else {
                throw ValidationError("--log-backups must be between 0 and 1000 (got \(logBackups))")
            }
            settings.logFiles = ConsoleSettings.LogFileSettings(
                directory: logDirectory, maxSize: size, backups: logBackups)
        }
        if let metrics {
            switch MetricsAddress.parse(metrics) {
            case .success(let address): settings.metrics = address
            case .failure(let error): throw ValidationError(error.description)
            }
        }
        settings.readiness = try readinessSettings()
        settings.health = try healthSettings()
        settings.maxMemory = try maxMemory.map { try Self.parseSize($0, option: "--max-memory") }
        if command.isEmpty, project == nil, settings.health != nil || settings.maxMemory != nil {
            throw ValidationError("--health and --max-memory watch a command's workers: give the command after --")
        }
        settings.control = try controlSetting()
        settings.logLimits = try logLimits()
        return settings
    }

    /// The project file this invocation runs: no command and no `--demo`, and `-f FILE`, else
    /// `./corral.toml`, else `./Procfile`.
    var projectFile: String? { command.isEmpty && !demo ? ProjectLoader.locate(file: project.file) : nil }

    /// `--health` and its companions, validated.
    func healthSettings() throws -> HealthCheck? {
        guard let health else { return nil }
        let probe: Probe
        do {
            guard let parsed = try Probe(parsing: health, field: "health") else {
                throw ValidationError(
                    "--health must be tcp:HOST:PORT, http://HOST:PORT/PATH or exec:COMMAND (got '\(health)')")
            }
            try parsed.validate(field: "health")
            probe = parsed
        } catch let error as ConfigurationError {
            throw ValidationError("--health: \(error.problem)")
        }
        let interval = try Self.parseSeconds(healthInterval, option: "--health-interval")
        let timeout = try Self.parseSeconds(healthTimeout, option: "--health-timeout")
        guard interval >= .milliseconds(10) else {
            throw ValidationError("--health-interval must be at least 0.01 seconds (got \(healthInterval))")
        }
        guard timeout >= .milliseconds(10) else {
            throw ValidationError("--health-timeout must be at least 0.01 seconds (got \(healthTimeout))")
        }
        guard (1...1000).contains(healthFailures) else {
            throw ValidationError("--health-failures must be between 1 and 1000 (got \(healthFailures))")
        }
        return HealthCheck(probe, interval: interval, timeout: timeout, failures: healthFailures)
    }

    /// `--log-lines`, `--log-bytes`, `--log-total`, validated.
    func logLimits() throws -> LogBook.Limits {
        guard (1...10_000_000).contains(logLines) else {
            throw ValidationError("--log-lines must be between 1 and 10000000 (got \(logLines))")
        }
        let perProcess = try Self.parseSize(logBytes, option: "--log-bytes")
        let total = try Self.parseSize(logTotal, option: "--log-total")
        guard total >= perProcess else {
            throw ValidationError("--log-total (\(logTotal)) must be at least --log-bytes (\(logBytes))")
        }
        return LogBook.Limits(linesPerProcess: logLines, bytesPerProcess: perProcess, totalBytes: total)
    }

    /// A size in bytes: `4096`, `512K`, `2M`, `1G` (powers of 1024; `KiB`, `MB` and the like too),
    /// from 1 KiB to 64 GiB.
    static func parseSize(_ text: String, option: String) throws -> Int {
        let trimmed = text.filter { !$0.isWhitespace }.uppercased()
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        var unit = Substring(trimmed.dropFirst(digits.count))
        if unit.hasSuffix("IB") { unit = unit.dropLast(2) } else if unit.hasSuffix("B") { unit = unit.dropLast() }
        let scale: Double
        switch unit {
        case "": scale = 1
        case "K": scale = 1024
        case "M": scale = 1024 * 1024
        case "G": scale = 1024 * 1024 * 1024
        default: throw ValidationError("\(option) must be a size like 512K, 2M or 1G (got '\(text)')")
        }
        guard let value = Double(digits), value.isFinite else {
            throw ValidationError("\(option) must be a size like 512K, 2M or 1G (got '\(text)')")
        }
        let bytes = value * scale
        guard bytes >= 1024, bytes <= 64 * 1024 * 1024 * 1024 else {
            throw ValidationError("\(option) must be between 1K and 64G (got '\(text)')")
        }
        return Int(bytes)
    }

    /// `--control PATH` or `--no-control`, validated.
    func controlSetting() throws -> ConsoleSettings.Control {
        guard let control else { return noControl ? .off : .defaultPath }
        guard !noControl else { throw ValidationError("--control and --no-control exclude each other: give one") }
        guard !control.isEmpty, control.utf8.count <= 107 else {
            throw ValidationError("--control needs a socket path of 1 to 107 bytes (got \(control.utf8.count))")
        }
        return .path(control)
    }

    /// `--ready-after`, `--probe-interval` and `--probe-timeout`, validated.
    func readinessSettings() throws -> ConsoleSettings.ReadinessSettings {
        let interval = try Self.parseSeconds(probeInterval, option: "--probe-interval")
        let timeout = try Self.parseSeconds(probeTimeout, option: "--probe-timeout")
        guard interval >= .milliseconds(10) else {
            throw ValidationError("--probe-interval must be at least 0.01 seconds (got \(probeInterval))")
        }
        guard timeout >= .milliseconds(10) else {
            throw ValidationError("--probe-timeout must be at least 0.01 seconds (got \(probeTimeout))")
        }
        return ConsoleSettings.ReadinessSettings(
            readyAfter: try readyAfter.map { try Self.parseSeconds($0, option: "--ready-after") },
            probeInterval: interval, probeTimeout: timeout)
    }

    /// `--reload-batch`: a count, or `all` (every worker at once).
    func reloadBatchValue() throws -> Int {
        if reloadBatch == "all" { return SupervisorConfiguration.reloadAll }
        guard let count = Int(reloadBatch), count >= 1 else {
            throw ValidationError("--reload-batch must be a number, 1 or more, or all (got '\(reloadBatch)')")
        }
        return count
    }

    /// `--ready-timeout`, validated.
    func readyTimeoutValue() throws -> Duration? {
        guard let readyTimeout else { return nil }
        let value = try Self.parseSeconds(readyTimeout, option: "--ready-timeout")
        guard value > .zero else {
            throw ValidationError("--ready-timeout must be more than 0 seconds (got \(readyTimeout))")
        }
        return value
    }

    /// The restart policy and backoff from `--restart` and its companions.
    func restartSettings() throws -> (RestartPolicy, RestartBackoff) {
        guard let policy = RestartPolicy(rawValue: restart) else {
            throw ValidationError("--restart must be no, on-failure or always (got '\(restart)')")
        }
        let delay = try Self.parseSeconds(restartDelay, option: "--restart-delay")
        let maxDelay = try Self.parseSeconds(restartMaxDelay, option: "--restart-max-delay")
        let reset = try Self.parseSeconds(restartReset, option: "--restart-reset")
        let window = try Self.parseSeconds(restartWindow, option: "--restart-window")
        guard maxDelay >= delay else {
            throw ValidationError(
                "--restart-max-delay (\(restartMaxDelay)) must be at least --restart-delay (\(restartDelay))")
        }
        guard reset >= .seconds(1) else {
            throw ValidationError("--restart-reset must be at least 1 second (got \(restartReset))")
        }
        guard maxRestarts >= 0 else {
            throw ValidationError(
                "--max-restarts cannot be negative (got \(maxRestarts)); use 0 to never restart twice")
        }
        guard window > .zero else {
            throw ValidationError("--restart-window must be more than 0 seconds (got \(restartWindow))")
        }
        return (
            policy,
            RestartBackoff(delay: delay, maxDelay: maxDelay, reset: reset, maxRestarts: maxRestarts, window: window)
        )
    }

    /// A number of seconds, 0 up to a week, for `option`.
    static func parseSeconds(_ text: String, option: String) throws -> Duration {
        guard let seconds = Double(text), seconds.isFinite else {
            throw ValidationError("\(option) must be a number of seconds (got '\(text)')")
        }
        guard seconds >= 0 else { throw ValidationError("\(option) cannot be negative (got \(text))") }
        guard seconds <= 7 * 24 * 3600 else { throw ValidationError("\(option) is over a week (\(text) s)") }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    static func parseSignals(_ text: String) throws -> [Signal] {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimming(" ") }
        guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
            throw ValidationError("--stop-signals needs signal names, e.g. INT,TERM (got '\(text)')")
        }
        var signals: [Signal] = []
        for name in names {
            guard let signal = Signal(parsing: name) else {
                throw ValidationError("--stop-signals: unknown signal '\(name)'; use names like INT, TERM, HUP, USR1")
            }
            guard signal.isCatchable else {
                throw ValidationError("--stop-signals: \(signal) cannot be caught, so it cannot be forwarded")
            }
            if !signals.contains(signal) { signals.append(signal) }
        }
        return signals
    }

    static func parseTimeout(_ text: String) throws -> Duration? {
        if text.lowercased() == "none" { return nil }
        guard let seconds = Double(text), seconds.isFinite else {
            throw ValidationError("--wait-timeout must be a number of seconds or 'none' (got '\(text)')")
        }
        guard seconds >= 0 else {
            throw ValidationError("--wait-timeout cannot be negative (got \(text)); use 0 for an immediate SIGKILL")
        }
        guard seconds <= 7 * 24 * 3600 else {
            throw ValidationError("--wait-timeout is over a week (\(text) s); use 'none' to wait forever")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
