import CorralControl
import CorralEngine
import Glibc

/// Finds the corrals of this user from their control sockets (``ControlDirectory``) and
/// connects to one: by `--socket`, by `--pid`, or the only one running. A socket nothing
/// answers (its corral was killed) is removed on the way.
enum CorralLocator {
    /// A corral that answered, with the snapshot it sent first.
    struct Answer {
        var link: ControlLink
        var snapshot: WireMessage
    }

    /// Exit status when no corral answers (`EX_UNAVAILABLE`).
    static let unavailableStatus: Int32 = 69
    /// Exit status for bad usage (`EX_USAGE`, as argument-parser's own).
    static let usageStatus: Int32 = 64
    /// Exit status when a corral refused (the connection, or a command).
    static let refusedStatus: Int32 = 1

    /// How long a corral has to send its snapshot.
    static let answerTimeout = Duration.seconds(5)

    /// Connects to the corral `socket` or `pid` names, or to the only one running.
    static func connect(socket: String?, pid: Int32?) throws(ControlExit) -> Answer {
        if let socket { return try answer(at: socket) }
        if let pid {
            for directory in ControlDirectory.all {
                let path = "\(directory)/\(pid).sock"
                if (try? FileSystem.status(path)) ?? nil != nil { return try answer(at: path) }
            }
            throw ControlExit(
                unavailableStatus,
                "no corral with pid \(pid) answers: no \(pid).sock in \(ControlDirectory.all.joined(separator: " or "))"
            )
        }
        var found = running()
        guard found.count <= 1 else {
            let pids = found.compactMap { $0.snapshot.server?.pid }.map(String.init).joined(separator: ", ")
            throw ControlExit(
                CorralLocator.usageStatus, "\(found.count) corrals are running (pids \(pids)): choose one with --pid")
        }
        guard let only = found.popLast() else {
            throw ControlExit(
                unavailableStatus,
                "no corral of yours is running (no control socket answers in "
                    + "\(ControlDirectory.all.joined(separator: " or ")))")
        }
        return only
    }

    /// Every corral of this user that answers, by pid, in the directory this corral would put
    /// its socket in; only when none answers there, in the other one (said on standard error,
    /// so a bare `ctl` never picks another session's corral unawares). Stale sockets are removed.
    static func running() -> [Answer] {
        var answers = running(in: ControlDirectory.preferred)
        guard answers.isEmpty else { return answers }
        for directory in ControlDirectory.all where directory != ControlDirectory.preferred {
            answers = running(in: directory)
            if !answers.isEmpty {
                FileError.write(
                    "corral: none answers in \(ControlDirectory.preferred); found in \(directory) (corrals started "
                        + "without XDG_RUNTIME_DIR)")
                return answers
            }
        }
        return []
    }

    /// The corrals that answer in `directory`, by pid.
    private static func running(in directory: String) -> [Answer] {
        guard ControlDirectory.problem(with: directory) == nil else { return [] }
        var answers: [Answer] = []
        for name in FileSystem.names(in: directory).sorted() where isSocketName(name) {
            let path = "\(directory)/\(name)"
            do {
                answers.append(try answer(at: path))
            } catch {
                continue
            }
        }
        return answers.sorted { ($0.snapshot.server?.pid ?? 0) < ($1.snapshot.server?.pid ?? 0) }
    }

    /// `1234.sock`: the names corral gives its sockets.
    private static func isSocketName(_ name: String) -> Bool {
        name.hasSuffix(".sock") && name.dropLast(5).allSatisfy(\.isASCIIDigit) && name.count > 5
    }

    /// Connects to `path` and reads the snapshot. A stale socket in a corral directory is removed.
    static func answer(at path: String) throws(ControlExit) -> Answer {
        let link: ControlLink
        do {
            link = try ControlLink(path: path)
        } catch {
            if case .stale = error, isInControlDirectory(path) { FileSystem.remove(path) }
            throw ControlExit(unavailableStatus, "\(error)")
        }
        let line: ArraySlice<UInt8>?
        do {
            line = try link.nextLine(timeout: answerTimeout)
        } catch {
            throw ControlExit(unavailableStatus, "\(error)")
        }
        guard let line else {
            throw ControlExit(
                unavailableStatus,
                link.timedOut ? "the corral at \(path) did not answer within 5 s" : "the corral at \(path) hung up")
        }
        guard let message = WireMessage.decode(line) else {
            throw ControlExit(unavailableStatus, "\(path) does not speak corral's protocol")
        }
        switch message.event {
        case "snapshot": return Answer(link: link, snapshot: message)
        case "refused": throw ControlExit(refusedStatus, "refused: \(message.reason ?? "no reason given")")
        default: throw ControlExit(unavailableStatus, "\(path) sent no snapshot first")
        }
    }

    private static func isInControlDirectory(_ path: String) -> Bool {
        ControlDirectory.all.contains { path.hasPrefix($0 + "/") && isSocketName(String(path.dropFirst($0.count + 1))) }
    }
}

extension Character {
    /// 0 to 9.
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
