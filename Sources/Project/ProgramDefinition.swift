import CorralEngine

/// One program of a project file: a named set of processes running one command, with its own
/// settings.
package struct ProgramDefinition: Hashable, Sendable {
    /// What a program runs.
    package enum Command: Hashable, Sendable {
        /// A line run by `/bin/sh -c`.
        case shell(String)
        /// A program and its arguments, exec'ed as they are.
        case argv([String])

        /// As `corral check` prints it.
        package var text: String {
            switch self {
            case .shell(let line): return line
            case .argv(let words): return words.map(Self.quoted).joined(separator: " ")
            }
        }

        /// The word as a shell reads it back: bare when it has no special character, else in
        /// single quotes.
        private static func quoted(_ word: String) -> String {
            let plain =
                !word.isEmpty
                && word.unicodeScalars.allSatisfy {
                    ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                        || "_@%+=:,./-".unicodeScalars.contains($0)
                }
            if plain { return word }
            return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
        }
    }

    /// What must hold of a dependency before a program starts: the engine's conditions.
    package typealias Condition = Program.Condition
    /// A program this one waits for, and for what: the engine's.
    package typealias Dependency = Program.Dependency

    /// Its name: letters, digits, `_` and `-`.
    package var name: String
    /// Where it is defined (its table header, or its Procfile line).
    package var line: Int
    package var command: Command
    /// How many processes it runs.
    package var workers: Int
    /// corral's options for it, by long name, as command-line values (`wait-timeout` → `["5"]`;
    /// `listen` may have several).
    package var options: [String: [String]]
    /// Its own environment, in file order (above the env files, below corral's variables).
    package var environment: [(key: String, value: String)]
    /// Env files of its own, read after the project's.
    package var envFiles: [String]
    package var workingDirectory: String?
    package var dependencies: [Dependency]
    /// It is expected to end: exit 0 completes it, anything else fails it.
    package var oneshot: Bool
    /// Where each of its keys is set (its own table, or the top-level default), for errors
    /// found later about a value.
    package var keyLines: [String: Int] = [:]

    /// A program with defaults.
    package init(name: String, line: Int, command: Command) {
        self.name = name
        self.line = line
        self.command = command
        self.workers = 1
        self.options = [:]
        self.environment = []
        self.envFiles = []
        self.dependencies = []
        self.oneshot = false
    }

    /// Equal when every field is (the environment compared pair by pair).
    package static func == (lhs: ProgramDefinition, rhs: ProgramDefinition) -> Bool {
        lhs.name == rhs.name && lhs.line == rhs.line && lhs.command == rhs.command && lhs.workers == rhs.workers
            && lhs.options == rhs.options && lhs.environment.map(\.key) == rhs.environment.map(\.key)
            && lhs.environment.map(\.value) == rhs.environment.map(\.value) && lhs.envFiles == rhs.envFiles
            && lhs.workingDirectory == rhs.workingDirectory && lhs.dependencies == rhs.dependencies
            && lhs.oneshot == rhs.oneshot
    }

    /// Hashes the name and line.
    package func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(line)
    }

    /// Whether `name` is a valid program name.
    package static func isName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
                    || $0 == "-"
            }
    }
}

extension Program.Dependency {
    /// `migrate (completed-successfully)`; a bare name for the default, `ready`.
    package var text: String { condition == .ready ? program : "\(program) (\(condition.rawValue))" }
}
