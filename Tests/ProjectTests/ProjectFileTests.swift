import CorralEngine
import CorralTestSupport
import Glibc
import Testing

@testable import CorralProject

/// Project files read and checked: Procfiles, `.env` files, `corral.toml`, dependencies. Alone:
/// reading files opens descriptors, which the tests that count the test process's own would see.
@Suite("Project files", .processExclusive)
struct ProjectFileTests {
    @Test("a Procfile: NAME: COMMAND lines in order, comments and blank lines skipped")
    func procfile() throws {
        let programs = try Procfile.parse(
            "# the app\nweb: gunicorn app:app --bind 0.0.0.0:$PORT\n\nworker_1: python worker.py  \nclock-2:python clock.py\n",
            file: "Procfile"
        ).get()
        #expect(programs.map(\.name) == ["web", "worker_1", "clock-2"])
        #expect(programs.map(\.line) == [2, 4, 5])
        #expect(programs[0].command == .shell("gunicorn app:app --bind 0.0.0.0:$PORT"))
        #expect(programs[1].command == .shell("python worker.py"))
        #expect(programs.allSatisfy { $0.workers == 1 })
    }

    @Test("a bad Procfile: every bad line, with its line number")
    func badProcfile() {
        guard
            case .failure(let errors) = Procfile.parse(
                "web: a\nnonsense\nweb: b\nno/slash: c\nempty:\n", file: "Procfile")
        else {
            Issue.record("accepted")
            return
        }
        #expect(
            errors.errors.map(\.description) == [
                "Procfile:2: not NAME: COMMAND, a comment or a blank line",
                "Procfile:3: program web is defined twice (first on line 1)",
                "Procfile:4: \"no/slash\" is not a program name (letters, digits, _ and -)",
                "Procfile:5: program empty has no command",
            ])
    }

    @Test(".env: export, quotes, escapes, comments; no expansion")
    func envFile() throws {
        let text = """
            # comment
            A=1
            export B = two words  # trailing comment
            C='single $HOME \\n'
            D="tab\\there \\"quoted\\" back\\\\slash\\nline"
            E=
            F=$A
            G=url#fragment\t# a tab starts this comment # not a space
            """
        let entries = try EnvFile.parse(text, file: ".env").get()
        let values = Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.value) })
        #expect(values["A"] == "1")
        #expect(values["B"] == "two words")
        #expect(values["C"] == "single $HOME \\n")
        #expect(values["D"] == "tab\there \"quoted\" back\\slash\nline")
        #expect(values["E"] == "")
        #expect(values["F"] == "$A", "no expansion")
        #expect(values["G"] == "url#fragment", "a comment starts at the first blank before #")
        #expect(entries.map(\.line) == [2, 3, 4, 5, 6, 7, 8])
    }

    @Test("a bad .env: not KEY=VALUE, a bad name, an unterminated quote, an unknown escape")
    func badEnvFile() {
        guard case .failure(let errors) = EnvFile.parse("OK=1\njust words\n1A=2\nQ=\"open\nR=\"\\q\"\n", file: ".env")
        else {
            Issue.record("accepted")
            return
        }
        #expect(errors.errors.map(\.line) == [2, 3, 4, 5])
        #expect(errors.errors[2].message == "unterminated double quote")
        #expect(errors.errors[3].message.hasPrefix("unknown escape \\q"))
    }

    @Test("corral.toml: programs in file order, defaults from the top, every kind of key")
    func toml() throws {
        let text = """
            wait-timeout = 5
            stop-signals = ["TERM"]

            [programs.web]
            command = ["uvicorn", "app:app", "--fd", "3"]
            workers = 4
            ready = "log:Application startup complete"
            ready-after = 0.5
            listen = ["127.0.0.1:8000", "admin=127.0.0.1:8001"]
            env = { GREETING = "hi", RETRIES = 3 }
            depends-on = ["db", { program = "migrate", condition = "completed-successfully" }]

            [programs.migrate]
            command = "python manage.py migrate"
            oneshot = true
            wait-timeout = 30

            [programs.db]
            command = "postgres"
            keep-running = true
            """
        let programs = try ProjectTOML.parse(text, file: "corral.toml").get()
        #expect(programs.map(\.name) == ["web", "migrate", "db"], "file order, not alphabetical")
        let web = programs[0]
        #expect(web.command == .argv(["uvicorn", "app:app", "--fd", "3"]))
        #expect(web.workers == 4)
        #expect(web.options["ready"] == ["log:Application startup complete"])
        #expect(web.options["ready-after"] == ["0.5"])
        #expect(web.options["listen"] == ["127.0.0.1:8000", "admin=127.0.0.1:8001"])
        #expect(web.options["wait-timeout"] == ["5"], "a top-level default")
        #expect(web.options["stop-signals"] == ["TERM"])
        #expect(web.environment.map(\.key) == ["GREETING", "RETRIES"])
        #expect(web.environment.map(\.value) == ["hi", "3"])
        #expect(
            web.dependencies == [
                .init("db", .ready), .init("migrate", .completedSuccessfully),
            ])
        #expect(web.line == 4)
        #expect(web.keyLines["workers"] == 6)
        #expect(web.keyLines["wait-timeout"] == 1)
        #expect(programs[1].oneshot)
        #expect(programs[1].options["wait-timeout"] == ["30"], "a program's own value over the default")
        #expect(programs[1].command == .shell("python manage.py migrate"))
        #expect(programs[2].options["keep-running"] == ["true"])
        #expect(DependencyOrder.startOrder(programs)?.map(\.name) == ["migrate", "db", "web"])
    }

    @Test("a bad corral.toml: every error with its line, a suggestion for a misspelt key, the cycle named")
    func badToml() {
        let text = """
            worker = 2

            [programs.web]
            command = "run web"
            depends-on = ["api"]
            readdy = "exec"

            [programs.api]
            command = "run api"
            depends-on = ["web"]
            workers = 0

            [programs.lonely]
            depends-on = ["ghost"]

            [programs.typed]
            command = 5
            oneshot = "yes"
            depends-on = [{ program = "web", condition = "someday" }]
            """
        guard case .failure(let errors) = ProjectTOML.parse(text, file: "corral.toml") else {
            Issue.record("accepted")
            return
        }
        #expect(
            errors.errors.map(\.description) == [
                "corral.toml:1: unknown key \"worker\"; did you mean \"workers\"?",
                "corral.toml:5: a dependency cycle: web -> api -> web",
                "corral.toml:6: unknown key \"readdy\" in [programs.web]; did you mean \"ready\"?",
                "corral.toml:11: workers must be 1 to 4096, not 0",
                "corral.toml:13: program lonely has no command",
                "corral.toml:14: lonely depends on ghost, which is not a program",
                "corral.toml:17: programs.typed.command must be a string or an array of strings",
                "corral.toml:18: programs.typed.oneshot must be true or false",
                "corral.toml:19: depends-on: unknown condition (known: started, ready, completed, completed-successfully)",
            ], "\(errors.errors.map(\.description))")
    }

    @Test("a TOML syntax error names its line")
    func syntaxError() {
        guard case .failure(let errors) = ProjectTOML.parse("a = 1\n[programs.web\n", file: "corral.toml") else {
            Issue.record("accepted")
            return
        }
        #expect(errors.errors.count == 1)
        #expect(errors.errors[0].line == 2)
    }

    @Test("a program with no [programs] table at all is refused")
    func noPrograms() {
        guard case .failure(let errors) = ProjectTOML.parse("workers = 2\n", file: "corral.toml") else {
            Issue.record("accepted")
            return
        }
        #expect(errors.errors[0].message.contains("no [programs.NAME] table"))
    }

    @Test("--formation sets processes per program, all=N every program; an unknown program is an error")
    func formation() throws {
        var programs = try Procfile.parse("web: a\nworker: b\n", file: "Procfile").get()
        #expect(throws: Never.self) { try Formation.apply("web=4,worker=2", to: &programs).get() }
        #expect(programs.map(\.workers) == [4, 2])
        #expect(throws: Never.self) { try Formation.apply("all=3", to: &programs).get() }
        #expect(programs.map(\.workers) == [3, 3])
        guard case .failure(let error) = Formation.apply("wbe=1", to: &programs) else {
            Issue.record("accepted")
            return
        }
        #expect(error.message.contains("no program wbe"))
    }

    @Test("PORT is base + 100 × position + index, as honcho and foreman number them")
    func ports() {
        #expect(Project.port(base: 5000, position: 0, index: 0) == 5000)
        #expect(Project.port(base: 5000, position: 1, index: 2) == 5102)
        #expect(Project.port(base: 8000, position: 3, index: 0) == 8300)
    }

    @Test("a project on disk: .env next to the file, a program's env-file, its env over both")
    func loadFromDisk() throws {
        var template = Array("/tmp/corral-project-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            Issue.record("mkdtemp failed")
            return
        }
        let directory = String(cString: made)
        defer { _ = system("rm -rf '\(directory)'") }
        func write(_ name: String, _ text: String) {
            let fd = open(directory + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        write("corral.toml", "[programs.web]\ncommand = \"serve\"\nenv-file = \"web.env\"\nenv = { B = \"toml\" }\n")
        write(".env", "A=dotenv\nB=dotenv\nC=dotenv\n")
        write("web.env", "C=web\n")
        #expect(ProjectLoader.locate(file: nil, in: directory) == directory + "/corral.toml")
        let project = try ProjectLoader.load(directory + "/corral.toml", options: ProjectOptions()).get()
        #expect(project.envFiles == [directory + "/.env"])
        #expect(project.environment == ["A": "dotenv", "B": "dotenv", "C": "dotenv"])
        #expect(project.programEnvironments["web"] == ["B": "toml", "C": "web"])
        var noDotEnv = ProjectOptions()
        noDotEnv.noEnvFile = true
        #expect(try ProjectLoader.load(directory + "/corral.toml", options: noDotEnv).get().envFiles.isEmpty)
        guard case .failure(let missing) = ProjectLoader.load(directory + "/nope.toml", options: ProjectOptions())
        else {
            Issue.record("a missing file was read")
            return
        }
        #expect(missing.errors[0].message.hasPrefix("cannot read it"))
    }
}
