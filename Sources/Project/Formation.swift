/// `--formation web=4,worker=2` (or `all=N`): how many processes each program runs, over what
/// the file says.
package enum Formation {
    /// Sets the workers of the named programs (`all`: every program); an error for a bad entry or
    /// an unknown program.
    package static func apply(_ text: String, to programs: inout [ProgramDefinition]) -> Result<Void, ProjectError> {
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { String($0).trimming(" ") }
            guard parts.count == 2, let count = Int(parts[1]), (0...4096).contains(count) else {
                return .failure(
                    ProjectError(file: "--formation", line: nil, "\"\(entry)\" is not NAME=COUNT (0 to 4096)"))
            }
            if parts[0] == "all" {
                for index in programs.indices { programs[index].workers = count }
                continue
            }
            guard let index = programs.firstIndex(where: { $0.name == parts[0] }) else {
                let names = programs.map(\.name).joined(separator: ", ")
                return .failure(
                    ProjectError(file: "--formation", line: nil, "no program \(parts[0]) (programs: \(names))"))
            }
            programs[index].workers = count
        }
        return .success(())
    }
}
