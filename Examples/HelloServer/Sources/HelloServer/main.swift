// Four worker processes share one listening socket bound by the main process. Each answers
// "hello from worker N" on 127.0.0.1:8081 until a stop signal (Ctrl-C or SIGTERM), then shuts
// down according to that signal. Run: swift run HelloServer; curl http://127.0.0.1:8081/
import CorralEngine
import Glibc

struct Shared: Codable, Sendable {
    var greeting: String
}

let server = Server(configuration: SupervisorConfiguration(workers: 4, waitTimeout: .seconds(10)))

let report = try server.run(sharing: Shared.self) { launch in
    // Main init: runs once, in the supervisor.
    let listener = try Listener.tcp(host: "127.0.0.1", port: 8081)
    defer { Listener.close(listener) }
    let report = try launch(Shared(greeting: "hello"), sockets: ["http": listener])
    // Main shutdown: every worker has ended; the report says why and how.
    print(report)
    return report
} worker: { worker, shared in
    // Worker init: this same binary, re-executed; worker.index is 0..<4.
    guard let listener = worker.socket(named: "http") else { return }
    let connections = try Connections(on: listener)
    let acceptor = Task {
        for try await connection in connections {
            let body = "\(shared.greeting) from worker \(worker.index)\n"
            let reply = Array("HTTP/1.0 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
            _ = reply.withUnsafeBytes { write(connection.rawValue, $0.baseAddress, $0.count) }
            try connection.close()
        }
    }
    let signal = try await worker.waitForStop()  // sends READY=1; returns SIGINT or SIGTERM
    // Worker shutdown, according to the signal.
    print("worker \(worker.index) stopping on \(signal)")
    connections.stop()  // what was accepted already is still answered
    try await acceptor.value
}
exit(report.exitStatus)
