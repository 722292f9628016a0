import Foundation
import Testing

/// A Python with packages from PyPI for the checks that read corral's output with the tools its
/// users have (prometheus_client's parser, PyYAML): a virtual environment in the package's
/// `.build/test-python`, made and filled on first use, kept for the next runs.
enum TestPython {
    /// The package's root.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The environment's `python3`, with `packages` installed (pip is asked only for those it lacks).
    static func with(_ packages: [String]) throws -> String {
        let directory = root.appendingPathComponent(".build/test-python").path
        let python = directory + "/bin/python3"
        if !FileManager.default.isExecutableFile(atPath: python) {
            let made = try runProgram("/usr/bin/env", ["python3", "-m", "venv", directory], timeout: .seconds(120))
            try #require(made.status == 0, "python3 -m venv: \(made.stderr)")
        }
        let modules = packages.map { $0 == "pyyaml" ? "yaml" : $0 }
        let present = try runProgram(python, ["-c", "import " + modules.joined(separator: ", ")])
        if present.status != 0 {
            let installed = try runProgram(
                python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + packages,
                timeout: .seconds(300))
            try #require(installed.status == 0, "pip install \(packages): \(installed.stderr)")
        }
        return python
    }

    /// Runs `script` with `python`, `input` on its standard input.
    static func run(_ python: String, _ script: String, input: String = "") throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("corral-py-\(UUID().uuidString)")
        try input.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try runProgram("/bin/sh", ["-c", "exec \"$0\" -c \"$1\" < \"$2\"", python, script, file.path])
    }
}
