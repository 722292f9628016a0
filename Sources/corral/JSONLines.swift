import CorralEngine
import SystemPackage

/// `--json`: one JSON object per line, each with `"time"` (UTC, ISO 8601) and `"event"`.
/// The schema is in the README ("Headless output").
final class JSONLines: HeadlessFrontend {
    let channel: HeadlessChannel
    private var output: OutputWriter { channel.output }
    private var names: SlotNames
    private let clock = ContinuousClock()

    init(output: OutputWriter, workers: Int) {
        self.channel = HeadlessChannel(output: output)
        self.names = SlotNames(workers: workers)
        output.dropNotice = { count in
            var object = JSONObject()
            object["time"] = .string(WallClock.iso8601())
            object["event"] = .string("output_dropped")
            object["lines"] = .int(count)
            return object.encoded
        }
    }

    func handle(_ event: EngineEvent) {
        names.observe(event)
        channel.observe(event)
        let line = encode(event, time: WallClock.iso8601(), now: clock.now)
        if case .output = event { output.output(line) } else { output.event(line) }
        if case .stopped = event { output.flush() }
    }

    /// The JSON line for an event.
    func encode(_ event: EngineEvent, time: String, now: ContinuousClock.Instant) -> String {
        var object = JSONObject()
        object["time"] = .string(time)
        switch event {
        case .spawned(let slot, let pid, let kind, let generation):
            object["event"] = .string("spawned")
            object["index"] = .int(slot)
            object["generation"] = .int(generation)
            object["pid"] = .int(Int(pid))
            object["kind"] = .string(kind.rawValue)
        case .stateChanged(let slot, let state, let generation):
            object["event"] = .string("state")
            object["index"] = .int(slot)
            object["generation"] = .int(generation)
            object["pid"] = names.pid(slot).map { .int(Int($0)) } ?? .null
            object["state"] = .string(state.rawValue)
        case .serverStateChanged(let state):
            object["event"] = .string("server")
            object["state"] = .string(state.rawValue)
        case .status(let slot, let text):
            object["event"] = .string("status")
            object["index"] = .int(slot)
            object["text"] = .string(text)
        case .signalSent(let slot, let pid, let signal, let reason, let generation):
            object["event"] = .string("signal")
            object["index"] = .int(slot)
            object["generation"] = .int(generation)
            object["pid"] = .int(Int(pid))
            object["signal"] = .string(signal.name)
            object["reason"] = .string(reason.rawValue)
        case .output(let slot, let stream, let line):
            object["event"] = .string("output")
            object["index"] = .int(slot)
            object["stream"] = .string(stream.rawValue)
            object["line"] = .string(line)
        case .exited(let slot, let pid, let end, let generation):
            object["event"] = .string("exited")
            object["index"] = .int(slot)
            object["generation"] = .int(generation)
            object["pid"] = .int(Int(pid))
            switch end.termination {
            case .exited(let code):
                object["code"] = .int(Int(code))
            case .reapedElsewhere:
                object["code"] = .null
                object["reaped_elsewhere"] = .bool(true)
            case .signaled(let signal, let dumped):
                object["signal"] = .string(signal.name)
                object["core_dumped"] = .bool(dumped)
                if case .supervisor(let reason)? = end.origin {
                    object["sent_by_supervisor"] = .bool(true)
                    object["reason"] = .string(reason.rawValue)
                } else {
                    object["sent_by_supervisor"] = .bool(false)
                }
            }
            object["clean"] = .bool(end.isClean)
            object["failure"] = end.failure.map { .string($0.description) } ?? .null
            object["last_lines"] = .strings(end.lastLines)
        case .restartScheduled(let slot, let generation, let attempt, let delay, let reason):
            object["event"] = .string("restart")
            object["index"] = .int(slot)
            object["generation"] = .int(generation)
            object["attempt"] = .int(attempt)
            object["delay_s"] = .seconds(delay)
            object["reason"] = .string(reason)
        case .reload(let progress):
            object["event"] = .string("reload")
            object["phase"] = .string(progress.phase)
            switch progress {
            case .started(let workers): object["workers"] = .int(workers)
            case .done(let replaced): object["replaced"] = .int(replaced)
            case .rolledBack(let slot, let reason, let replaced):
                object["index"] = slot.map { .int($0) } ?? .null
                object["reason"] = .string(reason)
                object["replaced"] = .int(replaced)
            }
        case .scaled(let workers):
            object["event"] = .string("scale")
            object["workers"] = .int(workers)
        case .failed(let slot, let failure):
            object["event"] = .string("failed")
            object["index"] = .int(slot)
            object["failure"] = .string(failure.description)
        case .stopping(let signal, let cause, let deadline):
            object["event"] = .string("stopping")
            object["signal"] = .string(signal.name)
            object["cause"] = .string(cause.description(naming: names.name))
            object["deadline_s"] = deadline.map { .seconds(now.duration(to: $0)) } ?? .null
        case .stopRepeated(let signal, let deadline):
            object["event"] = .string("stop_repeated")
            object["signal"] = .string(signal.name)
            object["deadline_s"] = deadline.map { .seconds(now.duration(to: $0)) } ?? .null
        case .signalIgnored(let signal):
            object["event"] = .string("signal_ignored")
            object["signal"] = .string(signal.name)
        case .stopped(let report):
            object["event"] = .string("stopped")
            object["exit_status"] = .int(Int(report.exitStatus))
            object["cause"] = .string(report.causeDescription)
            object["left_behind"] = .ints(report.leftBehind.map { Int($0.pid) })
            object["gave_up"] = .ints(report.slotsThatGaveUp)
        }
        return object.encoded
    }
}

/// A JSON object that keeps its keys in insertion order (so `time` and `event` come first).
struct JSONObject {
    enum Value {
        case string(String)
        case int(Int)
        case bool(Bool)
        case seconds(Duration)
        case ints([Int])
        case strings([String])
        case null
    }

    private var entries: [(String, Value)] = []

    subscript(key: String) -> Value? {
        get { entries.first { $0.0 == key }?.1 }
        set {
            entries.removeAll { $0.0 == key }
            if let newValue { entries.append((key, newValue)) }
        }
    }

    var encoded: String {
        "{" + entries.map { "\(Self.quote($0.0)):\(Self.encode($0.1))" }.joined(separator: ",") + "}"
    }

    private static func encode(_ value: Value) -> String {
        switch value {
        case .string(let text): return quote(text)
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .ints(let numbers): return "[" + numbers.map(String.init).joined(separator: ",") + "]"
        case .strings(let texts): return "[" + texts.map(quote).joined(separator: ",") + "]"
        case .null: return "null"
        case .seconds(let duration): return duration.decimalSeconds
        }
    }

    /// A JSON string literal, escaping quotes, backslashes and control characters.
    static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
