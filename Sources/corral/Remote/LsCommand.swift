import ArgumentParser
import CorralControl
import CorralEngine
import CorralModel

/// `corral ls`: the corrals of this user that are running.
struct LsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", _superCommandName: "corral",
        abstract: "List the corrals of this user that are running (stale sockets are removed).",
        discussion:
            "Looks where a corral started here puts its socket ($XDG_RUNTIME_DIR/corral, else /tmp/corral-<uid>); "
            + "when none answers there, in /tmp/corral-<uid> too, and says so.")

    func run() throws {
        StaleNotifyDirectories.remove()
        let found = CorralLocator.running()
        guard !found.isEmpty else {
            print("no corral of yours is running")
            return
        }
        let now = ContinuousClock.now
        var rows = [["PID", "STATE", "WORKERS", "UPTIME", "SOCKET", "COMMAND"]]
        for answer in found {
            guard let server = answer.snapshot.server else { continue }
            let uptime = EventDecoder.instant(in: server.uptimeS.map { -$0 }, from: now).map {
                TimeText.uptime($0.duration(to: now))
            }
            rows.append([
                server.pid.map(String.init) ?? "-", server.state ?? "-", server.workers.map(String.init) ?? "-",
                uptime ?? "-", answer.link.path,
                server.command.map { TerminalText.forDisplay($0) } ?? "(the demo)",
            ])
        }
        for line in StatusTable.columns(rows) { print(line) }
    }
}
