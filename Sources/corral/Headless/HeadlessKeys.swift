import CorralEngine
import Glibc

/// Keys for a headless corral whose standard input is a terminal, read a line at a time (the
/// terminal keeps its own mode): `q` then Enter stops the server (while stopping: force-kills,
/// like `q q` in the dashboard), `k` then Enter force-kills. A standard input that is not a
/// terminal is never read, so its end means nothing; a terminal that ends, errs or belongs to
/// another job is let go.
struct HeadlessKeys {
    /// The descriptor read, or nil.
    private(set) var input: CInt?
    private var pending: [UInt8] = []
    private var stopping = false
    /// What `q` sends to every process: the first stop signal, as `q` in the dashboard.
    private let stopSignal: Signal

    init(input: CInt = STDIN_FILENO, stopSignal: Signal = .interrupt) {
        self.input = isatty(input) == 1 && tcgetpgrp(input) == getpgrp() ? input : nil
        self.stopSignal = stopSignal
    }

    /// Whether keys are read (the hint is worth printing).
    var isActive: Bool { input != nil }

    /// Follows the server's state (a `q` while stopping force-kills).
    mutating func observe(_ event: EngineEvent) {
        if case .serverStateChanged(let state) = event { stopping = state == .stopping || state == .stopped }
    }

    /// The commands typed since the last call, if `input` is readable.
    mutating func commands(readable: [CInt]) -> [SupervisorCommand] {
        guard let input, readable.contains(input) else { return [] }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = read(input, &buffer, buffer.count)
        guard count > 0 else {
            // End of input (Ctrl-D), or EIO for a job in the background: stop reading.
            if count == 0 || (errno != EINTR && errno != EAGAIN) { self.input = nil }
            return []
        }
        pending += buffer[0..<count]
        var commands: [SupervisorCommand] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            switch line.filter({ $0 != " " && $0 != "\t" && $0 != "\r" }).lowercased() {
            case "q":
                commands.append(stopping ? .forceKill(.all) : .signal(stopSignal, to: .all))
                stopping = true
            case "k":
                commands.append(.forceKill(.all))
            default:
                break
            }
        }
        if pending.count > 4096 { pending.removeAll() }
        return commands
    }
}
