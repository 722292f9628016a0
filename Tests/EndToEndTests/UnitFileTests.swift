import CorralTestSupport
import Foundation
import Testing

/// The systemd units the README shows (Examples/systemd) are valid units.
@Suite("systemd units in Examples/systemd", .processExclusive)
struct UnitFileTests {
    @Test(
        "systemd-analyze verify accepts the service and socket pair (with this build's corral)",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")))
    func verify() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let examples = root.appendingPathComponent("Examples/systemd")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corral-units-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let version = try runProgram("/usr/bin/systemd-analyze", ["--version"]).stdout
        let major = Int(version.split(separator: " ").dropFirst().first ?? "") ?? 0
        for name in ["corral-hello.service", "corral-hello.socket"] {
            var text = try String(contentsOf: examples.appendingPathComponent(name), encoding: .utf8)
            // This build's binaries, so that the ExecStart paths exist; Type=notify-reload is
            // systemd 253's: an older one is checked with Type=notify, as the unit's comment says.
            text = text.replacingOccurrences(of: "/usr/local/bin/corral", with: corralExecutable)
                .replacingOccurrences(of: "/usr/local/bin/hello-server", with: "/bin/sh")
            if major < 253 { text = text.replacingOccurrences(of: "Type=notify-reload", with: "Type=notify") }
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let result = try runProgram(
            "/usr/bin/systemd-analyze",
            [
                "verify", directory.appendingPathComponent("corral-hello.service").path,
                directory.appendingPathComponent("corral-hello.socket").path,
            ])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }
}
