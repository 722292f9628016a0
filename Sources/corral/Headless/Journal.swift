import CorralEngine
import Glibc
import SystemPackage

/// The systemd journal's native protocol, for a corral whose standard output is the journal
/// (`JOURNAL_STREAM` names its fd 1): each line is sent as one datagram of fields (`MESSAGE`,
/// `PRIORITY`, `SYSLOG_IDENTIFIER`, `CORRAL_PROCESS`, …), so that `journalctl CORRAL_PROGRAM=web`
/// finds a program's lines. A datagram that cannot be sent is the caller's to print instead.
final class Journal {
    /// The journal's socket; `CORRAL_JOURNAL_SOCKET` names another (for tests).
    static var socketPath: String {
        getenv("CORRAL_JOURNAL_SOCKET").map { String(cString: $0) } ?? "/run/systemd/journal/socket"
    }

    private let socket: UnixDatagram

    private init(socket: UnixDatagram) { self.socket = socket }

    /// The journal, when standard output is it (`JOURNAL_STREAM` is `DEVICE:INODE` of fd 1) and
    /// its socket can be reached; nil otherwise.
    static func fromEnvironment() -> Journal? {
        guard let stream = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return nil }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt(parts[0]), let inode = UInt(parts[1]),
            let (stdout, _) = try? FileSystem.identity(of: FileDescriptor(rawValue: STDOUT_FILENO)),
            stdout == FileSystem.Identity(device: device, inode: inode)
        else { return nil }
        guard let socket = try? UnixDatagram(connectingTo: socketPath) else { return nil }
        return Journal(socket: socket)
    }

    /// Sends one entry; false when it was not sent.
    func send(_ fields: [(String, String)]) -> Bool {
        socket.send(Self.encode(fields))
    }

    /// The native protocol: `KEY=value` lines; a value with a newline as `KEY`, a newline, its
    /// length as 64-bit little-endian, the value and a newline.
    static func encode(_ fields: [(String, String)]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (key, value) in fields {
            bytes.append(contentsOf: key.utf8)
            if value.utf8.contains(UInt8(ascii: "\n")) {
                bytes.append(UInt8(ascii: "\n"))
                withUnsafeBytes(of: UInt64(value.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
            } else {
                bytes.append(UInt8(ascii: "="))
            }
            bytes.append(contentsOf: value.utf8)
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes
    }

    /// The priority of corral's line for `event`: 3 (error) for failures, 4 (warning) for
    /// restarts, refusals and escalations, 6 (info) otherwise.
    static func priority(of event: EngineEvent) -> Int {
        switch event {
        case .failed, .watchdogEnded: return 3
        case .exited(_, _, let end, _): return end.isClean ? 6 : 3
        case .reload(.rolledBack), .reload(.refused): return 3
        case .restartScheduled, .scaleRefused, .stopRepeated: return 4
        case .signalSent(_, _, _, let reason, _): return reason == .timeout ? 4 : 6
        case .health(_, _, let ok, _, _): return ok ? 6 : 4
        default: return 6
        }
    }
}
