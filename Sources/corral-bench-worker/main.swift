// The Swift worker the benchmark starts: trivial init, report ready, trivial shutdown. Handed a
// socket named "http", it answers every connection with a minimal HTTP 200 until it stops.
import CorralEngine
import Glibc
import SystemPackage

let server = Server(configuration: SupervisorConfiguration(workers: 1))
_ = try server.run { worker in
    guard let listener = worker.socket(named: "http") else {
        _ = try await worker.waitForStop()
        return
    }
    let connections = try Connections(on: listener)
    let server = Task {
        let reply = Array("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n".utf8)
        var request = [UInt8](repeating: 0, count: 1024)
        for try await connection in connections {
            _ = read(connection.rawValue, &request, request.count)
            _ = reply.withUnsafeBytes { write(connection.rawValue, $0.baseAddress, $0.count) }
            try? connection.close()
        }
    }
    _ = try await worker.waitForStop()
    // Stop accepting; answer what was accepted already.
    connections.stop()
    try await server.value
}
