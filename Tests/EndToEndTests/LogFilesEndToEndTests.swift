import CorralTestSupport
import Foundation
import Testing

/// `--log-dir` on real processes: the files and their lines, rotation under a flood, a file
/// moved away by someone else, a file that cannot be written.
@Suite("corral --log-dir", .processExclusive)
struct LogFilesEndToEndTests {
    /// A fresh directory, removed at the end.
    final class Directory {
        let path: String

        init() throws {
            path =
                FileManager.default.temporaryDirectory.appendingPathComponent("corral-logs-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }

        func read(_ name: String) -> String {
            (try? String(contentsOfFile: "\(path)/\(name)", encoding: .utf8)) ?? ""
        }

        func permissions(_ name: String) -> Int? {
            (try? FileManager.default.attributesOfItem(atPath: "\(path)/\(name)"))?[.posixPermissions] as? Int
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// A worker that prints `n 1`, `n 2`, … every `pause` seconds (0: as fast as it can).
    static func counter(pause: String) -> [String] {
        ["sh", "-c", "i=0; while :; do i=$((i + 1)); echo \"n $i\"; [ \(pause) = 0 ] || sleep \(pause); done"]
    }

    /// The numbers of the `n N` lines in `text`, checking each line's format.
    static func numbers(_ text: String) -> (numbers: [Int], malformed: Int) {
        let format = #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z worker\.0 out \| n (\d+)$"#
        var numbers: [Int] = []
        var malformed = 0
        for line in text.split(separator: "\n") {
            guard let range = line.range(of: format, options: .regularExpression),
                range == line.startIndex..<line.endIndex,
                let number = line.split(separator: " ").last.flatMap({ Int($0) })
            else {
                malformed += 1
                continue
            }
            numbers.append(number)
        }
        return (numbers, malformed)
    }

    @Test("one file per program and corral.log, in a directory made 0750, files 0640, each line stamped and named")
    func files() throws {
        let directory = try Directory()
        let logs = directory.path + "/logs"
        let corral = try RunningProgram(
            corralExecutable,
            [
                "--no-tui", "--no-control", "--log-dir", logs, "--ready-after", "0", "-w", "2", "--extra",
                "echo extra-said; echo oops >&2; exec sleep 60", "--", "sh", "-c",
                "echo \"hello from $CORRAL_PROCESS_INDEX\"; exec sleep 60",
            ])
        defer {
            kill(corral.pid, SIGKILL)
            corral.wait()
        }
        #expect(eventually(within: .seconds(10)) { directory.read("logs/extra.log").contains("oops") })
        #expect(eventually(within: .seconds(10)) { directory.read("logs/worker.log").contains("hello from 1") })
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0, "\(corral.stderr)")
        #expect(directory.permissions("logs") == 0o750)
        #expect(directory.permissions("logs/worker.log") == 0o640)
        let workers = directory.read("logs/worker.log").split(separator: "\n")
        #expect(workers.count == 2, "\(workers)")
        let format = #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z worker\.[01] out \| hello from [01]$"#
        #expect(workers.allSatisfy { $0.range(of: format, options: .regularExpression) != nil })
        let extra = directory.read("logs/extra.log")
        #expect(extra.contains(" extra.2 out | extra-said\n") && extra.contains(" extra.2 err | oops\n"), "\(extra)")
        let events = directory.read("logs/corral.log")
        #expect(events.contains(" worker.0 pid="), "\(events)")
        #expect(events.contains(" corral stopped: SIGTERM received; exit status 0"), "\(events)")
    }

    @Test("rotation under a flood: exactly N backups, each within the size, no line lost or split")
    func rotation() throws {
        let directory = try Directory()
        let corral = try RunningProgram(
            corralExecutable,
            [
                "--no-tui", "--no-control", "--log-dir", directory.path, "--log-max-size", "64K", "--log-backups", "3",
                "--",
            ]
                + Self.counter(pause: "0"))
        defer {
            kill(corral.pid, SIGKILL)
            corral.wait()
        }
        #expect(eventually(within: .seconds(20)) { !directory.read("worker.log.3").isEmpty })
        Thread.sleep(forTimeInterval: 0.5)
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["corral.log", "worker.log", "worker.log.1", "worker.log.2", "worker.log.3"], "\(names)")
        var all: [Int] = []
        for name in ["worker.log.3", "worker.log.2", "worker.log.1", "worker.log"] {
            let text = directory.read(name)
            #expect(text.utf8.count <= 64 * 1024, "\(name) has \(text.utf8.count) bytes")
            #expect(text.isEmpty || text.hasSuffix("\n"))
            let (numbers, malformed) = Self.numbers(text)
            #expect(malformed == 0, "\(name): \(malformed) lines split or mangled")
            all += numbers
        }
        #expect(all.count > 1000)
        #expect(zip(all, all.dropFirst()).allSatisfy { $1 == $0 + 1 }, "a line is missing between the files")
    }

    @Test("a log file moved away (logrotate without copytruncate) is reopened within a second; nothing lost")
    func movedAway() throws {
        let directory = try Directory()
        let corral = try RunningProgram(
            corralExecutable,
            ["--no-tui", "--no-control", "--log-dir", directory.path, "--"] + Self.counter(pause: "0.05"))
        defer {
            kill(corral.pid, SIGKILL)
            corral.wait()
        }
        #expect(eventually(within: .seconds(10)) { directory.read("worker.log").contains("n 5\n") })
        try FileManager.default.moveItem(
            atPath: directory.path + "/worker.log", toPath: directory.path + "/worker.log.old")
        #expect(eventually(within: .seconds(3)) { directory.read("worker.log").contains(" out | n ") })
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
        let (before, bad) = Self.numbers(directory.read("worker.log.old"))
        let (after, worse) = Self.numbers(directory.read("worker.log"))
        #expect(bad == 0 && worse == 0)
        let all = before + after
        #expect(
            all.first == 1 && zip(all, all.dropFirst()).allSatisfy { $1 == $0 + 1 },
            "\(before.suffix(3)) \(after.prefix(3))")
    }

    @Test("a file that cannot be written drops its lines, says so once, and writing resumes by itself")
    func unwritable() throws {
        let directory = try Directory()
        try FileManager.default.createDirectory(
            atPath: directory.path + "/worker.log", withIntermediateDirectories: false)
        let control = try Directory()
        let socket = control.path + "/c.sock"
        let corral = try RunningProgram(
            corralExecutable,
            ["--no-tui", "--control", socket, "--metrics", "127.0.0.1:0", "--log-dir", directory.path, "--"]
                + Self.counter(pause: "0.05"))
        defer {
            kill(corral.pid, SIGKILL)
            corral.wait()
        }
        #expect(eventually(within: .seconds(10)) { corral.stderr.contains("lines dropped until writing works again") })
        #expect(
            eventually(within: .seconds(5)) { corral.stdout.contains("worker.0 | n 3") },
            "supervision and the terminal go on")
        // ctl status counts what was dropped.
        #expect(
            eventually(within: .seconds(5)) {
                let status = try? runProgram(corralExecutable, ["ctl", "--socket", socket, "status"])
                return status?.stdout.contains("log lines dropped") == true
            })
        let json = try runProgram(corralExecutable, ["ctl", "--socket", socket, "status", "--json"])
        let body = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let server = body?["server"] as? [String: Any]
        #expect((server?["log_dropped_lines"] as? Int ?? 0) > 0, "\(json.stdout.prefix(300))")
        let port = try #require(MetricsEndToEndTests.metricsPort(corral.stdout))
        #expect(
            eventually(within: .seconds(5)) {
                (MetricsEndToEndTests.scrape(port).value("corral_log_dropped_lines_total") ?? 0) > 0
            })
        try FileManager.default.removeItem(atPath: directory.path + "/worker.log")
        #expect(eventually(within: .seconds(5)) { directory.read("worker.log").contains(" out | n ") })
        #expect(corral.stderr.contains("writing to \(directory.path)/worker.log again"))
        kill(corral.pid, SIGTERM)
        #expect(corral.wait() == 0)
        #expect(corral.stderr.components(separatedBy: "lines dropped until").count == 2, "said once: \(corral.stderr)")
        #expect(corral.stderr.contains("lines dropped in all"))
    }
}
