import CorralEngine
import TOMLKit

/// A `corral.toml`: top-level keys are defaults for every program; `[programs.NAME]` tables
/// define the programs, in file order. Keys are the long names of corral's options plus
/// `command`, `env`, `env-file`, `working-dir`, `depends-on` and `oneshot`.
package enum ProjectTOML {
    /// What a key's value must be.
    enum Kind {
        /// A string.
        case text
        /// An integer.
        case integer
        /// A number of seconds (integer or not), or a string (`none`).
        case seconds
        /// A string or an integer (`64M`, `all`, `4`).
        case textOrInteger
        /// A string or an array of strings.
        case texts
        /// `true` or `false`.
        case flag
    }

    /// corral's options a program may set, by long name.
    static let optionKinds: [String: Kind] = [
        "ready": .text, "ready-after": .seconds, "ready-timeout": .seconds, "probe-interval": .seconds,
        "probe-timeout": .seconds, "health": .text, "health-interval": .seconds, "health-timeout": .seconds,
        "health-failures": .integer, "max-memory": .textOrInteger, "restart": .text, "restart-delay": .seconds,
        "restart-max-delay": .seconds, "restart-reset": .seconds, "max-restarts": .integer,
        "restart-window": .seconds, "reload-batch": .textOrInteger, "listen": .texts, "notify-access": .text,
        "stop-signals": .texts, "wait-timeout": .seconds, "keep-running": .flag, "log-dir": .text,
        "log-max-size": .textOrInteger, "log-backups": .integer, "metrics": .text,
    ]

    /// The keys of a program's own table besides corral's options.
    static let programKinds: [String: Kind] = [
        "workers": .integer, "command": .texts, "env-file": .texts, "working-dir": .text, "oneshot": .flag,
    ]

    /// Every key a program table knows (`env` and `depends-on` have shapes of their own).
    static var programKeys: [String] { Array(optionKinds.keys) + Array(programKinds.keys) + ["env", "depends-on"] }

    /// Parses `text` (named `file` in errors): its programs in file order, or every error found.
    package static func parse(_ text: String, file: String) -> Result<[ProgramDefinition], ProjectErrors> {
        let (programs, errors) = read(text, file: file)
        return errors.isEmpty ? .success(programs) : .failure(ProjectErrors(errors: errors))
    }

    /// Reads `text` as far as it can: the programs (also the ones with errors) and every error,
    /// in line order.
    static func read(_ text: String, file: String) -> ([ProgramDefinition], [ProjectError]) {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            return ([], [ProjectError(file: file, line: error.source.begin.line, error.description)])
        } catch {
            return ([], [ProjectError(file: file, line: nil, "\(error)")])
        }
        var reader = Reader(file: file, lines: TOMLLines(text))
        let programs = reader.read(root)
        return (programs, reader.errors.sorted { ($0.line ?? 0) < ($1.line ?? 0) })
    }

    /// The nearest of `candidates` to `word` (for "did you mean"), if one is close.
    static func nearest(_ word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word, $0)) }.min { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let (best, score) = scored, score <= max(2, word.count / 3) else { return nil }
        return best
    }

    /// Levenshtein distance.
    private static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
