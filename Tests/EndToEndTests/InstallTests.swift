import CorralTestSupport
import Foundation
import Testing

/// Where `.ci/run` installs corral before the tests (`scripts/install.sh .build/install-check`).
let installCheckPrefix = TestPython.root.appendingPathComponent(".build/install-check").path

/// What `scripts/install.sh` installed: one binary that runs without the Swift toolchain, manual
/// pages that render, completion scripts that load. Runs once `.build/install-check` holds an
/// install (`.ci/run` makes it; by hand: `scripts/install.sh .build/install-check`).
@Suite(
    "an installed corral", .processExclusive,
    .enabled(if: FileManager.default.isExecutableFile(atPath: installCheckPrefix + "/bin/corral")))
struct InstallTests {
    static let prefix = installCheckPrefix
    static var binary: String { prefix + "/bin/corral" }
    /// A minimal environment: no toolchain on PATH, no LD_LIBRARY_PATH.
    static let bare = ["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "HOME=/nonexistent"]

    @Test(
        "the binary needs no Swift library: --version and a real run of two workers, with nothing of the toolchain in reach"
    )
    func standalone() throws {
        let libraries = try runProgram("/usr/bin/ldd", [Self.binary])
        if Self.isStatic {
            #expect((libraries.stdout + libraries.stderr).contains("not a dynamic executable"), "\(libraries.stdout)")
        } else {
            #expect(libraries.status == 0)
            #expect(
                !libraries.stdout.contains("libswift") && !libraries.stdout.contains("libFoundation"),
                "\(libraries.stdout)")
            #expect(!libraries.stdout.contains("not found"), "\(libraries.stdout)")
        }
        let version = try runProgram(Self.bare[0], Array(Self.bare.dropFirst()) + [Self.binary, "--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("0.") && version.stdout.hasSuffix("\n"), "\(version.stdout)")
        let word = try runProgram(Self.bare[0], Array(Self.bare.dropFirst()) + [Self.binary, "version"])
        #expect(word.status == 0 && word.stdout == version.stdout)
        // The commit it was installed from, as git told install.sh (which passes it to the build:
        // SwiftPM's manifest cache may hold an earlier commit's).
        if FileManager.default.fileExists(atPath: TestPython.root.appendingPathComponent(".git").path) {
            let recorded = try String(contentsOfFile: Self.prefix + "/share/doc/corral/REVISION", encoding: .utf8)
            let commit = recorded.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(version.stdout.contains("(git \(commit))"), "\(version.stdout) is not of \(commit)")
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corral-installed-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try RunningProgram(
            Self.bare[0],
            Array(Self.bare.dropFirst()) + [
                "XDG_RUNTIME_DIR=\(directory.path)", Self.binary, "--no-tui", "-w", "2", "--", "/bin/sh", "-c",
                "echo up $CORRAL_PROCESS_INDEX; exec sleep 30",
            ])
        defer {
            kill(run.pid, SIGKILL)
            run.wait()
        }
        #expect(
            eventually(within: .seconds(10)) { run.stdout.contains("corral running") }, "\(run.stdout)\(run.stderr)")
        #expect(
            eventually(within: .seconds(10)) {
                run.stdout.contains("worker.0 | up 0") && run.stdout.contains("worker.1 | up 1")
            }, "\(run.stdout)")
        kill(run.pid, SIGTERM)
        #expect(run.wait(timeout: .seconds(10)) == 0, "\(run.stdout)\(run.stderr)")
    }

    /// Whether the installed binary has no program interpreter (ld.so): glibc linked in.
    static var isStatic: Bool {
        let headers = try? runProgram("/usr/bin/readelf", ["--program-headers", binary])
        return headers?.status == 0 && headers?.stdout.contains("INTERP") == false
    }

    @Test(
        "the binary is linked at a fixed address, looks for no library beside itself, loads none (or only glibc's) and carries no ICU"
    )
    func linkage() throws {
        // glibc is linked in wherever its static archive is (libc6-dev has it); install.sh falls
        // back to a shared glibc only without one.
        let archive = try runProgram("/bin/sh", ["-c", "cc -print-file-name=libc.a"])
        let hasStaticGlibc = archive.status == 0 && archive.stdout.hasPrefix("/")
        #expect(Self.isStatic || !hasStaticGlibc, "glibc is shared though \(archive.stdout) exists")
        let elf = try runProgram("/usr/bin/readelf", ["--file-header", "--dynamic", Self.binary])
        #expect(elf.status == 0)
        #expect(elf.stdout.contains("EXEC (Executable file)"), "position-independent: \(elf.stdout.prefix(2000))")
        // ICU comes with Foundation's internationalization, which corral does not use.
        let symbols = try runProgram("/usr/bin/nm", [Self.binary])
        #expect(symbols.status == 0)
        #expect(!symbols.stdout.contains("icudt"), "ICU's data is linked in")
        if Self.isStatic {
            #expect(elf.stdout.contains("There is no dynamic section"), "\(elf.stdout)")
            return
        }
        #expect(!elf.stdout.contains("RUNPATH") && !elf.stdout.contains("RPATH"), "\(elf.stdout)")
        // None of its own symbols exported: ld.so and the runtime's one dladdr search them all.
        let exported = try runProgram("/usr/bin/readelf", ["--wide", "--dyn-syms", Self.binary])
        #expect(exported.status == 0 && !exported.stdout.contains(" $s"), "Swift symbols are exported")
        // Each C library install.sh found an archive of is linked in, not loaded at start.
        let scripts = TestPython.root.appendingPathComponent(".build/static-libraries").path
        let linkedIn = (try? FileManager.default.contentsOfDirectory(atPath: scripts)) ?? []
        #expect(linkedIn.contains("libstdc++.so"), "install.sh found no libstdc++.a: \(linkedIn)")
        for script in linkedIn {
            #expect(!elf.stdout.contains("[\(script)"), "\(script) is loaded: \(elf.stdout)")
        }
    }

    @Test("every manual page renders without a warning, corral's and its subcommands'")
    func manual() throws {
        let directory = Self.prefix + "/share/man/man1"
        let pages = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".1") }
        #expect(
            Set([
                "corral.1", "corral.ctl.1", "corral.attach.1", "corral.ls.1", "corral.check.1", "corral.logs.1",
                "corral-ctl.1", "corral-attach.1", "corral-ls.1", "corral-check.1", "corral-logs.1",
            ])
            .isSubset(of: Set(pages)), "\(pages)")
        for page in pages {
            let rendered = try runProgram(
                "/bin/sh", ["-c", "MANWIDTH=100 man -l \"$0\"", directory + "/" + page])
            #expect(rendered.status == 0 && rendered.stderr.isEmpty, "\(page): \(rendered.stderr)")
            #expect(rendered.stdout.contains("NAME") && rendered.stdout.contains("corral"), "\(page)")
        }
        let main = try runProgram("/bin/sh", ["-c", "MANWIDTH=100 man -l \"$0\"", directory + "/corral.1"])
        #expect(main.stdout.contains("--wait-timeout") && main.stdout.contains("--metrics"))
    }

    @Test("the completion scripts load in their shells (bash always; zsh and fish where installed)")
    func completions() throws {
        let bash = try runProgram(
            "/bin/bash",
            ["-c", "source \"$0\" && complete -p corral", Self.prefix + "/share/bash-completion/completions/corral"])
        #expect(bash.status == 0 && bash.stdout.contains("corral"), "\(bash.stdout)\(bash.stderr)")
        for (shell, script, check) in [
            (
                "/usr/bin/zsh", "/share/zsh/site-functions/_corral",
                "autoload -U compinit && compinit -u && source \"$0\""
            ),
            ("/usr/bin/fish", "/share/fish/vendor_completions.d/corral.fish", "source $argv[1]; or exit 1"),
        ] where FileManager.default.isExecutableFile(atPath: shell) {
            let loaded = try runProgram(shell, ["-c", check, Self.prefix + script])
            #expect(loaded.status == 0, "\(shell): \(loaded.stderr)")
        }
    }

    @Test("the systemd, Prometheus and Kubernetes examples are in share/doc/corral")
    func documents() {
        for file in [
            "README.md", "systemd/corral-hello.service", "systemd/corral-hello.socket", "prometheus/prometheus.yml",
            "prometheus/corral-alerts.yml", "kubernetes/hello.yaml",
        ] {
            #expect(FileManager.default.fileExists(atPath: Self.prefix + "/share/doc/corral/" + file), "\(file)")
        }
    }
}
