// A worker program for the engine's tests: one binary whose behaviour per slot is chosen by
// arguments, so tests can start real processes that init, fail, crash, hang or spawn children.
//
//   corral-test-worker worker [options]   run as the Swift worker (the test process supervises)
//   corral-test-worker server [options]   run a whole server: main init/shutdown, shared value,
//                                         a listening socket, Swift workers (this binary again)
//
// Options (I is a slot index or "all"):
//   --init-ms N            time the init takes             --record DIR     write DIR/<index>.txt
//   --fail-init I          throw during init               --fail-shutdown I  throw during shutdown
//   --hang-shutdown I      never finish shutdown           --grandchild I   start `sleep 1000` first
//   --crash I:KIND:MS      after MS ms running: abort | segv | exit7 | exit0
//   --workers N            (server) worker count           --wait-ms N      (server) wait timeout
//   --extra-swift          (server) add a Swift extra process
//   --thread-before-run    start a thread before Server.run (the zygote must then refuse)
//   --service-group        the body runs a ServiceGroup (WorkerContext.run(_:)) whose service
//                          records when the group's graceful shutdown reaches it
import CorralEngine
import CorralServiceLifecycle
import Foundation
import Logging
import ServiceLifecycle
import SystemPackage

struct Options: Sendable {
    var initMilliseconds = 0
    var failInit: String?
    var failShutdown: String?
    var hangShutdown: String?
    var grandchild: String?
    var crash: (slot: String, kind: String, milliseconds: Int)?
    var record: String?
    var workers = 2
    var waitMilliseconds = 5000
    var extraSwift = false
    var serviceGroup = false

    init(_ arguments: ArraySlice<String>) {
        var iterator = arguments.makeIterator()
        while let flag = iterator.next() {
            switch flag {
            case "--extra-swift": extraSwift = true
            case "--service-group": serviceGroup = true
            default:
                guard let value = iterator.next() else { continue }
                switch flag {
                case "--init-ms": initMilliseconds = Int(value) ?? 0
                case "--fail-init": failInit = value
                case "--fail-shutdown": failShutdown = value
                case "--hang-shutdown": hangShutdown = value
                case "--grandchild": grandchild = value
                case "--record": record = value
                case "--workers": workers = Int(value) ?? 2
                case "--wait-ms": waitMilliseconds = Int(value) ?? 5000
                case "--crash":
                    let parts = value.split(separator: ":").map(String.init)
                    if parts.count == 3 { crash = (parts[0], parts[1], Int(parts[2]) ?? 0) }
                default: continue
                }
            }
        }
    }

    func applies(_ target: String?, to index: Int) -> Bool {
        target == "all" || target == String(index)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
}

/// The value `server` mode hands from main to every worker.
struct Shared: Codable, Sendable {
    var greeting: String
    var mainPid: Int32
}

/// Appends `key=value` lines to DIR/<index>.txt.
func record(_ options: Options, _ index: Int, _ lines: [String]) {
    guard let directory = options.record else { return }
    let path = "\(directory)/\(index).txt"
    guard let file = fopen(path, "a") else { return }
    for line in lines { fputs(line + "\n", file) }
    fclose(file)
}

func startGrandchild() -> pid_t {
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("sleep"), strdup("1000"), nil]
    _ = posix_spawn(&pid, "/bin/sleep", nil, nil, argv, environ)
    return pid
}

func workerBody(_ options: Options) -> @Sendable (WorkerContext, Shared?) async throws -> Void {
    return { worker, shared in
        let index = worker.index
        record(
            options, index,
            [
                "pid=\(getpid())", "ppid=\(getppid())", "index=\(index)",
                "task-local=\(WorkerContext.current?.index ?? -1)",
            ])
        // The body and its child tasks run on the worker's main thread (its event loop).
        async let childOnMain = onMainThread()
        record(options, index, ["body-on-main-thread=\(onMainThread())", "child-on-main-thread=\(await childOnMain)"])
        if let shared { record(options, index, ["shared=\(shared.greeting) from \(shared.mainPid)"]) }
        if let socket = worker.socket(named: "http")?.rawValue {
            let address = localAddress(socket)
            record(options, index, ["socket=\(socket) port=\(address)"])
            Thread.detachNewThread { acceptLoop(socket, index: index) }
        }
        if options.applies(options.grandchild, to: index) {
            record(options, index, ["grandchild=\(startGrandchild())"])
        }
        worker.setStatus("initializing slot \(index)")
        if options.initMilliseconds > 0 { try await Task.sleep(for: .milliseconds(options.initMilliseconds)) }
        if options.applies(options.failInit, to: index) { throw TestFailure(description: "init refused on purpose") }
        if let crash = options.crash, options.applies(crash.slot, to: index) {
            Thread.detachNewThread {
                usleep(UInt32(crash.milliseconds) * 1000)
                switch crash.kind {
                case "abort": abort()
                case "segv":
                    // A real invalid access: raise(SIGSEGV) only runs the Swift backtracer's handler.
                    UnsafeMutablePointer<Int>(bitPattern: 8)?.pointee = 1
                case "exit0": exit(0)
                default: exit(7)
                }
            }
        }
        record(options, index, ["ready"])
        if options.serviceGroup {
            let service = RecordingService(options: options, index: index)
            let group = ServiceGroup(services: [service], logger: Logger(label: "test-worker"))
            let signal = try await worker.run(group)
            record(options, index, ["group-stop=\(signal.map(\.name) ?? "none")"])
            return
        }
        let signal = try await worker.waitForStop()
        record(options, index, ["stop=\(signal)"])
        if options.applies(options.hangShutdown, to: index) {
            while true { sleep(1000) }
        }
        // Give a duplicate delivery time to arrive before counting.
        try await Task.sleep(for: .milliseconds(300))
        record(options, index, ["received=\(worker.receivedStopSignals.map(\.name).joined(separator: ","))"])
        if options.applies(options.failShutdown, to: index) {
            throw TestFailure(description: "shutdown refused on purpose")
        }
        record(options, index, ["shutdown-done"])
    }
}

/// A service that runs until the group's graceful shutdown reaches it, and records both.
struct RecordingService: Service {
    let options: Options
    let index: Int

    func run() async throws {
        record(options, index, ["service-started"])
        try? await gracefulShutdown()
        record(options, index, ["service-graceful-shutdown"])
    }
}

/// Whether the caller runs on the process's main thread.
func onMainThread() -> Bool {
    Thread.isMainThread
}

func localAddress(_ socket: CInt) -> Int {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Answers every connection with "<index> <pid>\n".
func acceptLoop(_ socket: CInt, index: Int) {
    while true {
        let connection = accept(socket, nil, nil)
        if connection < 0 { continue }
        let reply = Array("\(index) \(getpid())\n".utf8)
        _ = reply.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
        close(connection)
    }
}

func listener() throws -> CInt {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard fd >= 0, bound == 0, listen(fd, 64) == 0 else { throw TestFailure(description: "cannot listen") }
    return fd
}

let arguments = CommandLine.arguments
let mode = arguments.count > 1 ? arguments[1] : "worker"
let options = Options(arguments.dropFirst(2))
var configuration = SupervisorConfiguration(
    workers: options.workers, waitTimeout: .milliseconds(options.waitMilliseconds))
if options.extraSwift {
    configuration.extras = [
        .swift { extra in
            record(options, extra.index, ["pid=\(getpid())", "extra-start"])
            let signal = extra.stopToken.wait()
            record(options, extra.index, ["stop=\(signal.map(\.name) ?? "none")"])
        }
    ]
}
let server = Server(configuration: configuration)
if arguments.contains("--thread-before-run") {
    // A thread running before Server.run: a zygote must refuse to fork from such a process.
    Thread.detachNewThread { while true { sleep(1000) } }
}

do {
    switch mode {
    case "server":
        let report = try server.run(sharing: Shared.self) { launch in
            record(options, 1000, ["main-init pid=\(getpid())"])
            let socket = try listener()
            FileHandle.standardOutput.write(Data("main listening on port \(localAddress(socket))\n".utf8))
            let report = try launch(
                Shared(greeting: "hello", mainPid: getpid()), sockets: ["http": FileDescriptor(rawValue: socket)])
            close(socket)
            record(
                options, 1000, ["main-shutdown stop=\(report.stopSignal?.name ?? "none") status=\(report.exitStatus)"])
            return report
        } worker: { worker, shared in
            try await workerBody(options)(worker, shared)
        }
        print(report)
        exit(report.exitStatus)
    default:
        _ = try server.run(sharing: NoSharedValue.self, main: { launch in try launch(NoSharedValue()) }) {
            worker, _ in try await workerBody(options)(worker, nil)
        }
        // The worker role never returns; reaching here means this was run by hand.
        FileHandle.standardError.write(
            Data("corral-test-worker: run me through the engine (CORRAL_ROLE is not set)\n".utf8))
        exit(64)
    }
} catch {
    FileHandle.standardError.write(Data("corral-test-worker: \(error)\n".utf8))
    exit(70)
}
