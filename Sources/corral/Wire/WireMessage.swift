import FoundationEssentials

/// Any line of the control protocol, decoded: an event (the `--json` schema), the snapshot, a
/// reply, or a client's command. Every field is optional; which ones a line has depends on its
/// `event` (or `command`). Objects nested in a snapshot (`server`, each of `processes`, a
/// process's `last_exit`) use the same field names, so they decode as this type too.
final class WireMessage: Decodable, Sendable {
    let time: String?
    let event: String?
    let command: String?
    let id: WireID?
    let ok: Bool?
    let error: String?
    let index: Int?
    let generation: Int?
    let pid: Int?
    let kind: String?
    let state: String?
    let control: String?
    let text: String?
    let status: String?
    let signal: String?
    let reason: String?
    let stream: String?
    let line: String?
    let code: Int?
    let reapedElsewhere: Bool?
    let coreDumped: Bool?
    let sentBySupervisor: Bool?
    let stoppedByOperator: Bool?
    let clean: Bool?
    let failure: String?
    let failureKind: String?
    let limitS: Double?
    let restarts: Int?
    let windowS: Double?
    let spawnError: String?
    let lastLines: [String]?
    let attempt: Int?
    let delayS: Double?
    let phase: String?
    let workers: Int?
    let extras: Int?
    let replaced: Int?
    let cause: String?
    let causeKind: String?
    let causeSignal: String?
    let causeIndex: Int?
    let deadlineS: Double?
    let exitStatus: Int?
    let sinceS: Double?
    let uptimeS: Double?
    let endedS: Double?
    let agoS: Double?
    let restartInS: Double?
    let waitTimeoutS: Double?
    let readyTimeoutS: Double?
    let readyAfterS: Double?
    let waitingFor: String?
    let stopSignals: [String]?
    let reloading: Bool?
    let server: WireMessage?
    let processes: [WireMessage]?
    let output: [WireMessage]?
    let lastExit: WireMessage?
    let failedExit: WireMessage?
    let failures: Int?
    let crashes: Int?
    let refused: String?
    let replacedBy: Int?
    let previousExit: WireMessage?
    let signals: [WireMessage]?
    let detail: String?
    let lastSignal: WireMessage?
    let stopping: WireMessage?
    let ended: WireMessage?

    /// One decoder for every line (a viewer decodes thousands a second).
    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    /// Decodes one line; nil when it is not a JSON object of this protocol.
    static func decode(_ line: some Collection<UInt8>) -> WireMessage? {
        try? decoder.decode(WireMessage.self, from: Data(line))
    }
}

extension Duration {
    /// A duration from a JSON number of seconds (nil, negative or not finite: nil).
    init?(wireSeconds seconds: Double?) {
        guard let seconds, seconds.isFinite, seconds >= 0, seconds < 1e12 else { return nil }
        self = .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
