import FoundationEssentials
import SystemPackage

/// The call that starts the children, handed to the main process's body. Code before calling it
/// is the main init; code after it, the main shutdown. It returns when every child has ended.
public struct Launcher<Shared: Encodable> {
    let configuration: SupervisorConfiguration
    let signals: SignalPipe

    /// Starts the workers and extras, passing `shared` (as JSON) and `sockets` (as inherited
    /// descriptors 3, 4, … named in `LISTEN_FDNAMES`, in name order), and supervises them with
    /// the default ``LogFrontend``. Returns the report; throws if a child could not be spawned
    /// (after stopping the others).
    public func callAsFunction(_ shared: Shared, sockets: [String: FileDescriptor] = [:]) throws(SupervisorError)
        -> SupervisorReport
    {
        try callAsFunction(shared, sockets: sockets, frontend: LogFrontend(logger: configuration.logger))
    }

    /// Like ``callAsFunction(_:sockets:)``, with events going to `frontend`.
    public func callAsFunction(
        _ shared: Shared, sockets: [String: FileDescriptor] = [:], frontend: some Frontend
    ) throws(SupervisorError) -> SupervisorReport {
        let json: String
        do {
            json = String(decoding: try JSONEncoder().encode(shared), as: UTF8.self)
        } catch {
            throw .invalidConfiguration(
                ConfigurationError(field: "shared value", problem: "cannot be encoded: \(error)"))
        }
        let payload = LaunchPayload(
            sharedJSON: json, sockets: sockets.sorted { $0.key < $1.key }.map { ($0.key, $0.value.rawValue) })
        return try Supervisor(configuration).run(payload: payload, signals: signals, frontend: frontend)
    }
}
