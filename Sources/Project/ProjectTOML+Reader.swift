import CorralEngine
import TOMLKit

extension ProjectTOML {
    /// Reads a parsed `corral.toml` into program definitions, gathering every error with its line.
    struct Reader {
        let file: String
        let lines: TOMLLines
        private(set) var errors: [ProjectError] = []

        init(file: String, lines: TOMLLines) {
            self.file = file
            self.lines = lines
        }

        /// The programs of `root`, in file order.
        mutating func read(_ root: TOMLTable) -> [ProgramDefinition] {
            let topKeys = programKeys + ["programs"]
            for key in root.keys.sorted() where !topKeys.contains(key) {
                unknown(key, in: [], candidates: topKeys)
            }
            guard let programsValue = root["programs"] else {
                fail(nil, "no [programs.NAME] table: a corral.toml defines its programs as [programs.web] tables")
                return []
            }
            guard let programs = programsValue.table else {
                fail(lines.key("programs", in: []), "programs must be a table of tables ([programs.web])")
                return []
            }
            let order =
                lines.programOrder.filter { programs[$0] != nil }
                + programs.keys.sorted().filter { !lines.programOrder.contains($0) }
            var definitions: [ProgramDefinition] = []
            for name in order {
                let path = ["programs", name]
                guard ProgramDefinition.isName(name) else {
                    fail(lines.table(path), "\"\(name)\" is not a program name (letters, digits, _ and -)")
                    continue
                }
                guard let table = programs[name]?.table else {
                    fail(lines.key(name, in: ["programs"]), "programs.\(name) must be a table ([programs.\(name)])")
                    continue
                }
                if let definition = program(name, table, defaults: root) { definitions.append(definition) }
            }
            checkDependencies(definitions)
            return definitions
        }

        /// One program: its table's keys over the top-level defaults (read to the end whatever is
        /// wrong, so that every error is found).
        private mutating func program(_ name: String, _ table: TOMLTable, defaults: TOMLTable) -> ProgramDefinition? {
            let path = ["programs", name]
            let known = programKeys
            for key in table.keys.sorted() where !known.contains(key) { unknown(key, in: path, candidates: known) }
            func value(_ key: String) -> (TOMLValueConvertible, [String])? {
                if let own = table[key] { return (own, path) }
                if let shared = defaults[key] { return (shared, []) }
                return nil
            }
            let line = lines.table(path) ?? 0
            // A program with a bad command is still read to the end: every error is reported.
            var command = ProgramDefinition.Command.shell("")
            if let (commandValue, commandPath) = value("command") {
                let empty = { [lines] in lines.key("command", in: commandPath) }
                if let line = commandValue.string {
                    command = .shell(line)
                    if line.trimming(" \t").isEmpty { fail(empty(), "program \(name) has an empty command") }
                } else if let words = texts(commandValue, key: "command", path: commandPath) {
                    command = .argv(words)
                    if words.first?.isEmpty ?? true { fail(empty(), "program \(name) has an empty command") }
                }
            } else {
                fail(lines.table(path), "program \(name) has no command")
            }
            var definition = ProgramDefinition(name: name, line: line, command: command)
            for key in known {
                if let (_, at) = value(key), let keyLine = lines.key(key, in: at) { definition.keyLines[key] = keyLine }
            }
            if let (workers, at) = value("workers"), let count = integer(workers, key: "workers", path: at) {
                if (1...SupervisorConfiguration.maximumWorkers).contains(count) {
                    definition.workers = count
                } else {
                    fail(
                        lines.key("workers", in: at),
                        "workers must be 1 to \(SupervisorConfiguration.maximumWorkers), not \(count)")
                }
            }
            for key in optionKinds.keys.sorted() {
                guard let (option, at) = value(key), let kind = optionKinds[key],
                    let values = optionValues(option, key: key, kind: kind, path: at)
                else { continue }
                definition.options[key] = values
            }
            if let (env, at) = value("env") { definition.environment = environment(env, path: at) }
            if let (files, at) = value("env-file") {
                definition.envFiles = texts(files, key: "env-file", path: at) ?? []
            }
            if let (directory, at) = value("working-dir") {
                definition.workingDirectory = text(directory, key: "working-dir", path: at)
            }
            if let (oneshot, at) = value("oneshot") {
                definition.oneshot = flag(oneshot, key: "oneshot", path: at) ?? false
            }
            if let (dependencies, at) = value("depends-on") {
                definition.dependencies = self.dependencies(dependencies, path: at)
            }
            return definition
        }

        /// `env = { KEY = "value" }`: string values (numbers and booleans as written).
        private mutating func environment(_ value: TOMLValueConvertible, path: [String]) -> [(
            key: String, value: String
        )] {
            guard let table = value.table else {
                fail(lines.key("env", in: path), "env must be a table of KEY = \"value\" (env = { A = \"1\" })")
                return []
            }
            var pairs: [(key: String, value: String)] = []
            for key in table.keys.sorted() {
                guard EnvFile.isKey(key) else {
                    fail(
                        lines.key(key, in: path + ["env"]) ?? lines.key("env", in: path),
                        "\"\(key)\" is not a variable name")
                    continue
                }
                guard let entry = table[key], let text = scalarText(entry) else {
                    fail(
                        lines.key(key, in: path + ["env"]) ?? lines.key("env", in: path), "env.\(key) must be a string")
                    continue
                }
                pairs.append((key, text))
            }
            return pairs
        }

        /// `depends-on = ["db", { program = "migrate", condition = "completed-successfully" }]`.
        private mutating func dependencies(_ value: TOMLValueConvertible, path: [String]) -> [ProgramDefinition
            .Dependency]
        {
            let line = lines.key("depends-on", in: path)
            guard let array = value.array else {
                fail(
                    line, "depends-on must be an array: [\"db\", { program = \"migrate\", condition = \"completed\" }]")
                return []
            }
            var result: [ProgramDefinition.Dependency] = []
            for item in array {
                if let name = item.string {
                    result.append(.init(name, .ready))
                } else if let table = item.table, let name = table["program"]?.string {
                    let conditions = ProgramDefinition.Condition.allCases.map(\.rawValue)
                    for key in table.keys where key != "program" && key != "condition" {
                        fail(line, "depends-on: unknown key \"\(key)\" (known: program, condition)")
                    }
                    guard let text = table["condition"]?.string ?? Optional("ready"),
                        let condition = ProgramDefinition.Condition(rawValue: text)
                    else {
                        fail(line, "depends-on: unknown condition (known: \(conditions.joined(separator: ", ")))")
                        continue
                    }
                    result.append(.init(name, condition))
                } else {
                    fail(line, "depends-on: each entry is a program name or { program = \"NAME\", condition = \"…\" }")
                }
            }
            return result
        }

        /// Unknown programs in `depends-on`, a program depending on itself, and cycles.
        private mutating func checkDependencies(_ programs: [ProgramDefinition]) {
            let names = Set(programs.map(\.name))
            for program in programs {
                for dependency in program.dependencies where !names.contains(dependency.program) {
                    let others = names.subtracting([program.name])
                    let hint = nearest(dependency.program, in: Array(others)).map { "; did you mean \"\($0)\"?" } ?? ""
                    fail(
                        lines.key("depends-on", in: ["programs", program.name]),
                        "\(program.name) depends on \(dependency.program), which is not a program\(hint)")
                }
            }
            if let cycle = DependencyOrder.cycle(programs) {
                let first = programs.first { $0.name == cycle[0] }
                fail(
                    first.flatMap { lines.key("depends-on", in: ["programs", $0.name]) },
                    "a dependency cycle: \(cycle.joined(separator: " -> "))")
            }
        }

        // MARK: - Values

        private mutating func optionValues(_ value: TOMLValueConvertible, key: String, kind: Kind, path: [String])
            -> [String]?
        {
            switch kind {
            case .text: return text(value, key: key, path: path).map { [$0] }
            case .integer: return integer(value, key: key, path: path).map { [String($0)] }
            case .seconds:
                if let string = value.string { return [string] }
                if let integer = value.int { return [String(integer)] }
                if let double = value.double { return [Self.number(double)] }
                mistyped(key, path: path, "a number of seconds")
                return nil
            case .textOrInteger:
                if let string = value.string { return [string] }
                if let integer = value.int { return [String(integer)] }
                mistyped(key, path: path, "a string or an integer")
                return nil
            case .texts:
                guard let values = texts(value, key: key, path: path) else { return nil }
                // Several stop signals are one option value, as on the command line.
                return key == "stop-signals" ? [values.joined(separator: ",")] : values
            case .flag: return flag(value, key: key, path: path).map { [$0 ? "true" : "false"] }
            }
        }

        private mutating func text(_ value: TOMLValueConvertible, key: String, path: [String]) -> String? {
            if let string = value.string { return string }
            mistyped(key, path: path, "a string")
            return nil
        }

        private mutating func texts(_ value: TOMLValueConvertible, key: String, path: [String]) -> [String]? {
            if let string = value.string { return [string] }
            if let array = value.array {
                let strings = array.compactMap(\.string)
                if strings.count == array.count { return strings }
            }
            mistyped(key, path: path, "a string or an array of strings")
            return nil
        }

        private mutating func integer(_ value: TOMLValueConvertible, key: String, path: [String]) -> Int? {
            if value.type == .int, let integer = value.int { return integer }
            mistyped(key, path: path, "an integer")
            return nil
        }

        private mutating func flag(_ value: TOMLValueConvertible, key: String, path: [String]) -> Bool? {
            if let bool = value.bool { return bool }
            mistyped(key, path: path, "true or false")
            return nil
        }

        /// A scalar as text: strings as they are, numbers and booleans as written.
        private func scalarText(_ value: TOMLValueConvertible) -> String? {
            switch value.type {
            case .string: return value.string
            case .int: return value.int.map(String.init)
            case .double: return value.double.map(Self.number)
            case .bool: return value.bool.map { $0 ? "true" : "false" }
            default: return nil
            }
        }

        /// `0.5`, `2` (not `2.0`).
        private static func number(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
        }

        private mutating func mistyped(_ key: String, path: [String], _ expected: String) {
            let name = (path.count > 1 ? "programs.\(path[1])." : "") + key
            fail(lines.key(key, in: path), "\(name) must be \(expected)")
        }

        private mutating func unknown(_ key: String, in path: [String], candidates: [String]) {
            let hint = nearest(key, in: candidates).map { "; did you mean \"\($0)\"?" } ?? ""
            let place = path.count > 1 ? " in [programs.\(path[1])]" : ""
            fail(lines.key(key, in: path), "unknown key \"\(key)\"\(place)\(hint)")
        }

        private mutating func fail(_ line: Int?, _ message: String) {
            errors.append(ProjectError(file: file, line: line, message))
        }
    }
}
