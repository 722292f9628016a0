import FoundationEssentials

/// Any line of the control protocol, decoded: an event (the `--json` schema), the snapshot, a
/// reply, or a client's command. Every field is optional; which ones a line has depends on its
/// `event` (or `command`). Objects nested in a snapshot (`server`, each of `processes`, a
/// process's `last_exit`) use the same field names, so they decode as this type too.
package final class WireMessage: Decodable, Sendable {
    package let time: String?
    package let event: String?
    package let command: String?
    package let id: WireID?
    package let ok: Bool?
    package let error: String?
    package let index: Int?
    /// A process's name (`web.1`) and program (`web`).
    package let name: String?
    package let program: String?
    /// The programs a reload names; what a file reload added, removed, changed and left alone.
    package let programs: [String]?
    package let programFile: String?
    /// How many lines `--log-dir` dropped because a write failed.
    package let logDroppedLines: Int?
    /// How many output lines an `output_dropped` line says were not sent.
    package let lines: Int?
    package let added: [String]?
    package let removed: [String]?
    package let changed: [String]?
    package let unchanged: [String]?
    package let generation: Int?
    package let pid: Int?
    package let kind: String?
    package let state: String?
    package let control: String?
    package let text: String?
    package let status: String?
    package let signal: String?
    package let reason: String?
    package let stream: String?
    package let line: String?
    package let code: Int?
    package let reapedElsewhere: Bool?
    package let coreDumped: Bool?
    package let sentBySupervisor: Bool?
    package let stoppedByOperator: Bool?
    package let clean: Bool?
    package let failure: String?
    package let failureKind: String?
    package let limitS: Double?
    package let restarts: Int?
    package let windowS: Double?
    package let spawnError: String?
    /// The program a failed dependency names.
    package let dependency: String?
    package let lastLines: [String]?
    package let attempt: Int?
    package let delayS: Double?
    package let phase: String?
    package let workers: Int?
    package let extras: Int?
    package let replaced: Int?
    package let cause: String?
    package let causeKind: String?
    package let causeSignal: String?
    package let causeIndex: Int?
    package let deadlineS: Double?
    package let exitStatus: Int?
    package let sinceS: Double?
    package let uptimeS: Double?
    package let endedS: Double?
    package let agoS: Double?
    package let restartInS: Double?
    package let waitTimeoutS: Double?
    package let readyTimeoutS: Double?
    package let readyAfterS: Double?
    package let waitingFor: String?
    package let stopSignals: [String]?
    package let reloading: Bool?
    package let server: WireMessage?
    package let processes: [WireMessage]?
    package let output: [WireMessage]?
    package let lastExit: WireMessage?
    package let failedExit: WireMessage?
    package let failures: Int?
    package let crashes: Int?
    package let refused: String?
    package let replacedBy: Int?
    package let previousExit: WireMessage?
    package let signals: [WireMessage]?
    package let detail: String?
    package let lastSignal: WireMessage?
    package let stopping: WireMessage?
    package let ended: WireMessage?

    /// One decoder for every line (a viewer decodes thousands a second).
    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    /// Decodes one line; nil when it is not a JSON object of this protocol.
    package static func decode(_ line: some Collection<UInt8>) -> WireMessage? {
        try? decoder.decode(WireMessage.self, from: Data(line))
    }
}

extension Duration {
    /// A duration from a JSON number of seconds (nil, negative or not finite: nil).
    package init?(wireSeconds seconds: Double?) {
        guard let seconds, seconds.isFinite, seconds >= 0, seconds < 1e12 else { return nil }
        self = .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
