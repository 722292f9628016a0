import CorralTestSupport
import Foundation
import Testing

/// `corral --version`, `corral version`, and the subcommands as the help and the manual show them.
@Suite("corral --version and subcommands", .processExclusive)
struct VersionEndToEndTests {
    @Test("--version and version print the version and the git revision of this checkout, exit 0")
    func version() throws {
        let flag = try runProgram(corralExecutable, ["--version"])
        let word = try runProgram(corralExecutable, ["version"])
        #expect(flag.status == 0 && word.status == 0)
        #expect(flag.stdout == word.stdout)
        let pattern = #"^\d+\.\d+\.\d+ \(git [0-9a-f]{12}(-dirty)?\)\n$"#
        #expect(flag.stdout.range(of: pattern, options: .regularExpression) != nil, "\(flag.stdout)")
    }

    @Test("help lists the subcommands; help ctl is ctl's; a subcommand after options is refused")
    func subcommands() throws {
        let help = try runProgram(corralExecutable, ["--help"])
        #expect(help.status == 0)
        for name in ["ctl", "attach", "ls", "logs", "check", "version"] {
            #expect(help.stdout.contains("\n  \(name) "), "\(name) missing: \(help.stdout)")
        }
        let ctl = try runProgram(corralExecutable, ["help", "ctl"])
        #expect(ctl.status == 0 && ctl.stdout.contains("USAGE: corral ctl"), "\(ctl.stdout)")
        let late = try runProgram(corralExecutable, ["-w", "2", "ls"])
        #expect(
            late.status == 64 && late.stderr.contains("ls is a command of its own: put it first (corral ls …)"),
            "\(late.stderr)")
        // A subcommand's errors show its own usage.
        let status = try runProgram(corralExecutable, ["ctl", "status", "--bogus"])
        #expect(status.status == 64 && status.stderr.contains("Usage: corral ctl status"), "\(status.stderr)")
    }

    @Test(
        "a bad option or value is refused with the usage and where the help is (a run's parse looks for no help flags)",
        arguments: [["--bogus"], ["-w", "0", "--", "true"], ["--wait-timeout", "soon", "--", "true"]])
    func refusedWithHelpHint(arguments: [String]) throws {
        let run = try runProgram(corralExecutable, arguments)
        #expect(run.status == 64, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("Error: "), "\(run.stderr)")
        #expect(run.stderr.contains("See 'corral --help' for more information."), "\(run.stderr)")
    }

    @Test("-h, --help and --help-hidden ask for the help, also after other options")
    func helpFlags() throws {
        for arguments in [["-h"], ["-w", "2", "--help"], ["-w", "2", "-h"], ["--no-tui", "--help-hidden"]] {
            let run = try runProgram(corralExecutable, arguments)
            #expect(run.status == 0 && run.stdout.hasPrefix("OVERVIEW: "), "\(arguments): \(run.stdout)\(run.stderr)")
        }
        // After `--` they are the command's.
        let command = try runProgram(
            corralExecutable, ["--no-tui", "--no-control", "--", "sh", "-c", "echo ran $0 $1", "-h", "--help"])
        #expect(command.stdout.contains("ran -h --help") && !command.stdout.contains("OVERVIEW"), "\(command.stdout)")
    }

    @Test(
        "without /proc mounted corral says so and exits 71 (it used to see no arguments and start the demo)",
        .enabled(if: canHideProc))
    func withoutProc() throws {
        let run = try runProgram(
            "/usr/bin/unshare",
            ["-m", "--fork", "/bin/sh", "-c", "umount -l /proc && exec \"$0\" --version", corralExecutable])
        #expect(run.status == 71, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains("is /proc mounted?") && run.stdout.isEmpty, "\(run.stdout)\(run.stderr)")
    }
}

/// Whether this process may hide /proc in a mount namespace of its own (root, or CAP_SYS_ADMIN).
private let canHideProc: Bool = {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { return false }
    return (try? runProgram("/usr/bin/unshare", ["-m", "--fork", "/bin/sh", "-c", "umount -l /proc"]))?.status == 0
}()
