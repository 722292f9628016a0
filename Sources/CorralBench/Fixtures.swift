import Foundation

/// The benchmark's C fixtures (`Benchmarks/fixtures/*.c`), compiled with the system C compiler
/// into plain C binaries: SwiftPM would link a C target against the Swift runtime, and loading
/// that runtime is exactly the start-up cost the baselines must not pay.
enum Fixtures {
    static let sourceDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Benchmarks/fixtures")

    /// The path of the compiled fixture `name` (`ready` or `baseline`), compiling it if needed.
    static func binary(_ name: String) throws -> String {
        let source = sourceDirectory.appendingPathComponent("\(name).c").path
        let directory = sibling("corral-bench-fixtures")
        let output = directory + "/" + name
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let sourceDate = (try? manager.attributesOfItem(atPath: source)[.modificationDate] as? Date) ?? .distantFuture
        let outputDate = (try? manager.attributesOfItem(atPath: output)[.modificationDate] as? Date) ?? .distantPast
        if outputDate < sourceDate {
            let compiler = Process()
            compiler.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            compiler.arguments = ["cc", "-O2", "-o", output, source]
            try compiler.run()
            compiler.waitUntilExit()
            guard compiler.terminationStatus == 0 else {
                throw BenchmarkError(description: "cc could not compile \(source)")
            }
        }
        return output
    }
}
