import Foundation
import Testing

/// The built `corral` binary, next to the test bundle.
let corralExecutable: String = {
    let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    var directory = URL(fileURLWithPath: bundle).deletingLastPathComponent()
    if directory.lastPathComponent.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
    return directory.appendingPathComponent("corral").path
}()

/// A TCP socket on 127.0.0.1 with a port the kernel picked; listening when asked.
func loopbackSocket(listening: Bool) -> (descriptor: CInt, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            guard bind(fd, pointer, length) == 0, !listening || listen(fd, 1) == 0 else { return CInt(-1) }
            return getsockname(fd, pointer, &length)
        }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for a test).
func freePort() -> Int {
    let (fd, port) = loopbackSocket(listening: false)
    close(fd)
    return port
}

/// Runs a program to completion (bounded) and returns its exit status and output.
@discardableResult
func runProgram(_ path: String, _ arguments: [String], timeout: Duration = .seconds(30)) throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = ContinuousClock.now + timeout
    while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
    if process.isRunning {
        kill(-process.processIdentifier, SIGKILL)
        process.terminate()
        Issue.record("\(path) \(arguments) did not finish in \(timeout)")
    }
    process.waitUntilExit()
    let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return (process.terminationStatus, stdout, stderr)
}

/// Polls `condition` every 50 ms until it holds or `limit` passes; returns whether it held.
func eventually(within limit: Duration, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}

/// An HTTP GET to 127.0.0.1 with curl; the body, or "" on failure.
func curl(_ port: Int) -> String {
    (try? runProgram("/usr/bin/curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(port)/"]).stdout) ?? ""
}
