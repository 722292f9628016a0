import Glibc

/// A project file read and checked: its programs in file order, and the environment its env
/// files give every program.
package struct Project: Sendable {
    /// Which format the file is in.
    package enum Format: String, Sendable {
        case procfile = "Procfile"
        case toml = "corral.toml"
    }

    /// The file, as named.
    package var file: String
    package var format: Format
    /// The programs, in file order.
    package var programs: [ProgramDefinition]
    /// The env files read for every program, in order (later ones win).
    package var envFiles: [String]
    /// What those files set, later files over earlier ones.
    package var environment: [String: String]

    /// Each program's own env files read on top of the project's, then its `env`: what it adds
    /// to corral's own environment (corral's variables go on top at run time).
    package var programEnvironments: [String: [String: String]]

    /// The directory the file is in.
    package var directory: String { Project.directory(of: file) }

    /// The directory part of `path` (`.` for a bare name).
    package static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `PORT` for process `index` of the program at `position` (honcho's and foreman's rule).
    package static func port(base: Int, position: Int, index: Int) -> Int { base + 100 * position + index }
}

/// How a run finds and reads its project file.
package struct ProjectOptions: Sendable {
    /// `-f FILE`, or nil to look for `./corral.toml`, then `./Procfile`.
    package var file: String?
    /// `--env-file FILE` (repeatable; instead of the `.env` next to the file).
    package var envFiles: [String] = []
    /// `--no-env-file`.
    package var noEnvFile = false
    /// `--formation web=4,worker=2` (or `all=N`).
    package var formation: String?

    /// Options with the defaults.
    package init(file: String? = nil) { self.file = file }
}

/// Finds, reads and checks a project file and its env files.
package enum ProjectLoader {
    /// The file a run without a command uses: `file` if given, else `corral.toml`, else
    /// `Procfile` in `directory`; nil when there is none (the demo runs).
    package static func locate(file: String?, in directory: String = ".") -> String? {
        if let file { return file }
        for name in ["corral.toml", "Procfile"] {
            let path = directory == "." ? name : directory + "/" + name
            if access(path, F_OK) == 0 { return path }
        }
        return nil
    }

    /// Reads `path` (a `.toml` name is TOML, anything else a Procfile) and its env files;
    /// every error found, each with its file and line.
    package static func load(_ path: String, options: ProjectOptions) -> Result<Project, ProjectErrors> {
        let (project, errors) = read(path, options: options)
        guard let project, errors.isEmpty else { return .failure(ProjectErrors(errors: errors)) }
        return .success(project)
    }

    /// Reads `path` and its env files as far as they can be read: the project (nil when the
    /// file cannot be read or parsed at all) and every error found.
    package static func read(_ path: String, options: ProjectOptions) -> (Project?, [ProjectError]) {
        let text: String
        switch readFile(path) {
        case .success(let contents): text = contents
        case .failure(let error): return (nil, [error])
        }
        let format: Project.Format = path.hasSuffix(".toml") ? .toml : .procfile
        var errors: [ProjectError] = []
        var programs: [ProgramDefinition] = []
        if format == .toml {
            (programs, errors) = ProjectTOML.read(text, file: path)
        } else {
            switch Procfile.parse(text, file: path) {
            case .success(let parsed): programs = parsed
            case .failure(let found): errors += found.errors
            }
        }
        if programs.isEmpty, errors.isEmpty {
            errors.append(ProjectError(file: path, line: nil, "no programs"))
        }
        if let formation = options.formation {
            switch Formation.apply(formation, to: &programs) {
            case .success: break
            case .failure(let error): errors.append(error)
            }
        }
        let directory = Project.directory(of: path)
        var envFiles = options.envFiles
        if envFiles.isEmpty, !options.noEnvFile {
            let dotEnv = directory == "." ? ".env" : directory + "/.env"
            if access(dotEnv, F_OK) == 0 { envFiles = [dotEnv] }
        }
        var environment: [String: String] = [:]
        for file in envFiles {
            switch readEnvFile(file) {
            case .success(let entries): for entry in entries { environment[entry.key] = entry.value }
            case .failure(let found): errors += found.errors
            }
        }
        var programEnvironments: [String: [String: String]] = [:]
        for program in programs {
            var own: [String: String] = [:]
            for file in program.envFiles {
                let resolved = file.hasPrefix("/") || directory == "." ? file : directory + "/" + file
                switch readEnvFile(resolved) {
                case .success(let entries): for entry in entries { own[entry.key] = entry.value }
                case .failure(let found): errors += found.errors
                }
            }
            for (key, value) in program.environment { own[key] = value }
            programEnvironments[program.name] = own
        }
        let project = Project(
            file: path, format: format, programs: programs, envFiles: envFiles, environment: environment,
            programEnvironments: programEnvironments)
        return (project, errors)
    }

    private static func readEnvFile(_ path: String) -> Result<[EnvFile.Entry], ProjectErrors> {
        switch readFile(path) {
        case .success(let text): return EnvFile.parse(text, file: path)
        case .failure(let error): return .failure(ProjectErrors(errors: [error]))
        }
    }

    /// The whole file as UTF-8 text (invalid bytes replaced), or why it cannot be read.
    static func readFile(_ path: String) -> Result<String, ProjectError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return .failure(ProjectError(file: path, line: nil, "cannot read it: \(String(cString: strerror(errno)))"))
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else {
                return .failure(
                    ProjectError(file: path, line: nil, "cannot read it: \(String(cString: strerror(errno)))"))
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
            if bytes.count > 16 << 20 { return .failure(ProjectError(file: path, line: nil, "larger than 16 MiB")) }
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }
}
