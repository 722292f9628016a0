import CProcessShims
import Glibc

/// A POSIX signal as a value: prints as `SIGTERM`, parses from `TERM`, `SIGTERM` or `15`.
public struct Signal: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The signal number.
    public let rawValue: CInt

    /// Wraps a signal number; no check is made (see ``init(parsing:)`` for validated input).
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// `SIGHUP`: the terminal closed.
    public static let hangup = Signal(rawValue: SIGHUP)
    /// `SIGINT`: interrupt (Ctrl-C).
    public static let interrupt = Signal(rawValue: SIGINT)
    /// `SIGQUIT`.
    public static let quit = Signal(rawValue: SIGQUIT)
    /// `SIGABRT`: `abort()`.
    public static let abort = Signal(rawValue: SIGABRT)
    /// `SIGKILL`: cannot be caught or ignored.
    public static let kill = Signal(rawValue: SIGKILL)
    /// `SIGSEGV`: invalid memory access.
    public static let segmentationFault = Signal(rawValue: SIGSEGV)
    /// `SIGTERM`: polite termination request.
    public static let terminate = Signal(rawValue: SIGTERM)
    /// `SIGUSR1`.
    public static let user1 = Signal(rawValue: SIGUSR1)
    /// `SIGUSR2`.
    public static let user2 = Signal(rawValue: SIGUSR2)
    /// `SIGSTOP`: cannot be caught or ignored.
    public static let stop = Signal(rawValue: SIGSTOP)
    /// `SIGCONT`.
    public static let `continue` = Signal(rawValue: SIGCONT)
    /// `SIGPIPE`.
    public static let brokenPipe = Signal(rawValue: SIGPIPE)

    private static let names: [(CInt, String)] = [
        (SIGHUP, "HUP"), (SIGINT, "INT"), (SIGQUIT, "QUIT"), (SIGILL, "ILL"), (SIGTRAP, "TRAP"),
        (SIGABRT, "ABRT"), (SIGBUS, "BUS"), (SIGFPE, "FPE"), (SIGKILL, "KILL"), (SIGUSR1, "USR1"),
        (SIGSEGV, "SEGV"), (SIGUSR2, "USR2"), (SIGPIPE, "PIPE"), (SIGALRM, "ALRM"), (SIGTERM, "TERM"),
        (SIGSTKFLT, "STKFLT"), (SIGCHLD, "CHLD"), (SIGCONT, "CONT"), (SIGSTOP, "STOP"), (SIGTSTP, "TSTP"),
        (SIGTTIN, "TTIN"), (SIGTTOU, "TTOU"), (SIGURG, "URG"), (SIGXCPU, "XCPU"), (SIGXFSZ, "XFSZ"),
        (SIGVTALRM, "VTALRM"), (SIGPROF, "PROF"), (SIGWINCH, "WINCH"), (SIGIO, "IO"), (SIGPWR, "PWR"),
        (SIGSYS, "SYS"),
    ]

    /// The highest valid signal number on this system (real-time signals included).
    public static var maximum: CInt { CInt(corral_sigrtmax()) }

    /// The short name without the `SIG` prefix (`TERM`), or `RTMIN+n` / the number.
    public var shortName: String {
        if let name = Self.names.first(where: { $0.0 == rawValue })?.1 { return name }
        let realTimeMinimum = CInt(corral_sigrtmin())
        if rawValue >= realTimeMinimum && rawValue <= CInt(corral_sigrtmax()) {
            return rawValue == realTimeMinimum ? "RTMIN" : "RTMIN+\(rawValue - realTimeMinimum)"
        }
        return "\(rawValue)"
    }

    /// The conventional name, `SIGTERM`; a number when the signal has no name.
    public var name: String {
        let short = shortName
        return short.first?.isNumber == true ? "signal \(short)" : "SIG\(short)"
    }

    /// A one-line description for logs and reports.
    public var description: String { name }

    /// Parses `TERM`, `SIGTERM`, `sigterm` or `15`; nil for anything that is not a valid signal.
    public init?(parsing text: String) {
        let trimmed = text.trimmingWhitespace().uppercased()
        if let number = CInt(trimmed) {
            guard number >= 1 && number <= Self.maximum else { return nil }
            self.init(rawValue: number)
            return
        }
        let bare = trimmed.hasPrefix("SIG") ? String(trimmed.dropFirst(3)) : trimmed
        if let match = Self.names.first(where: { $0.1 == bare }) {
            self.init(rawValue: match.0)
            return
        }
        if bare == "RTMIN" {
            self.init(rawValue: CInt(corral_sigrtmin()))
            return
        }
        if bare.hasPrefix("RTMIN+"), let offset = CInt(bare.dropFirst(6)) {
            let number = CInt(corral_sigrtmin()) + offset
            guard offset >= 0 && number <= CInt(corral_sigrtmax()) else { return nil }
            self.init(rawValue: number)
            return
        }
        return nil
    }

    /// Whether a process can catch, block or ignore this signal (false for `SIGKILL` and `SIGSTOP`).
    public var isCatchable: Bool { self != .kill && self != .stop }

    /// Orders signals by number.
    public static func < (lhs: Signal, rhs: Signal) -> Bool { lhs.rawValue < rhs.rawValue }
}
