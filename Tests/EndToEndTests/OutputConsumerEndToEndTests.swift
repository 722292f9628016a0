import CorralTestSupport
import Foundation
import Testing

/// The reader of corral's output goes away or stops reading: corral never dies of it and never
/// blocks on it.
@Suite("corral and the reader of its output", .processExclusive)
struct OutputConsumerEndToEndTests {
    /// Workers that tick until SIGTERM, then record a graceful shutdown in `directory`.
    static func tickers(recordingIn directory: String) -> [String] {
        [
            "sh", "-c",
            "trap 'echo graceful > \(directory)/w$CORRAL_PROCESS_INDEX; exit 0' TERM; "
                + "while :; do echo tick; sleep 0.02; done",
        ]
    }

    @Test("| head -1: the reader goes away, corral stops its workers gracefully and exits 0, not of SIGPIPE")
    func readerGone() throws {
        let pipeline = try Pipeline()
        let corral = try RunningProgram(
            corralExecutable, ["--no-tui", "-w", "2", "--"] + Self.tickers(recordingIn: pipeline.directory),
            output: pipeline.path)
        // Once both workers have their trap set (they tick), the reader leaves.
        let ticking = pipeline.readLines(within: .seconds(10)) { lines in
            lines.contains { $0.hasSuffix("worker.0 | tick") } && lines.contains { $0.hasSuffix("worker.1 | tick") }
        }
        #expect(ticking)
        pipeline.closeReader()
        #expect(corral.wait(timeout: .seconds(15)) == 0, "stderr: \(corral.stderr)")
        for index in 0..<2 {
            let record = try? String(contentsOfFile: "\(pipeline.directory)/w\(index)", encoding: .utf8)
            #expect(record == "graceful\n", "worker \(index) was not stopped gracefully")
        }
    }

    @Test("a reader that stops reading: SIGTERM is still forwarded and SIGKILL comes on time")
    func stalledReader() throws {
        let pipeline = try Pipeline()
        let flood = "trap '' TERM; while :; do echo 'a line of output that fills the pipe'; done"
        let corral = try RunningProgram(
            corralExecutable,
            ["--no-tui", "--metrics", "127.0.0.1:0", "-w", "2", "--wait-timeout", "1", "--", "sh", "-c", flood],
            output: pipeline.path)
        let first = pipeline.firstLine(within: .seconds(10))
        let port = try #require(first.flatMap(MetricsEndToEndTests.metricsPort), "\(first ?? "")")
        // The test reads no more: once the pipe is full, corral's writes would block.
        #expect(pipeline.holds(60_000, within: .seconds(10)))
        // The lines it drops meanwhile are counted in the metrics.
        #expect(
            eventually(within: .seconds(10)) {
                (MetricsEndToEndTests.scrape(port).value("corral_output_dropped_lines_total") ?? 0) > 0
            })
        kill(corral.pid, SIGTERM)
        // Exit status 2: the SIGKILL after the wait timeout came, which a blocked loop never
        // sends (it would still be waiting on the reader when wait() gives up after 15 s).
        // How promptly it comes is CorralBench's to measure.
        #expect(corral.wait(timeout: .seconds(15)) == 2, "stderr: \(corral.stderr)")
        #expect(corral.stderr.contains("the reader of corral's output did not keep up"), "\(corral.stderr)")
    }
}

/// Ctrl-S (XOFF) on the terminal corral writes to.
@Suite("corral and a terminal stopped with Ctrl-S", .processExclusive)
struct FlowControlEndToEndTests {
    @Test("Ctrl-S, headless or dashboard: a SIGTERM still stops the server on time", arguments: ["--no-tui", ""])
    func stoppedTerminal(mode: String) throws {
        let flood = "trap '' TERM; while :; do echo tick; sleep 0.001; done"
        let run = try DashboardEndToEndTests.CorralInTmux(
            width: 120, height: 40, arguments: "\(mode) --wait-timeout 1 -w 2 -- sh -c \"\(flood)\"")
        #expect(eventually(within: .seconds(10)) { run.session.screen().contains("tick") })
        run.session.press("C-s")
        if mode == "--no-tui" {
            // The terminal stopped: the ticks no longer scroll. (The dashboard turns flow
            // control off, so there Ctrl-S is only an unbound key.)
            let stalled = eventually(within: .seconds(10)) {
                let before = run.session.screen()
                usleep(200_000)
                return run.session.screen() == before
            }
            #expect(stalled, "the terminal did not stop on Ctrl-S")
        }
        // corral has the worker's command line among its own arguments, after its path.
        let supervisor = try #require(
            processes(withArgument: flood).first { pid in
                let arguments = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")?.split(separator: 0)
                return arguments?.first.map { String(decoding: $0, as: UTF8.self) } == corralExecutable
            }, "corral not found")
        kill(supervisor, SIGTERM)
        // A loop blocked on its terminal would wait for Ctrl-Q, which comes only after this
        // bound; corral ends after the 1 s wait timeout and at most 1 s for the terminal.
        let ended = eventually(within: .seconds(10)) { hasEnded(supervisor) }
        #expect(ended, "corral blocked on its stopped terminal")
        run.session.press("C-q")
        #expect(run.exitStatus() == "2")
    }
}
