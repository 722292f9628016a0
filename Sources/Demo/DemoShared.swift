/// What the demo's main process hands to every demo worker.
public struct DemoShared: Codable, Sendable, Equatable {
    /// The address the listener is bound to (for status text and replies).
    public var host: String
    /// The port the listener is bound to.
    public var port: Int
    /// How long each worker's init takes, so the `initializing` state is visible.
    public var initMilliseconds: Int

    /// Creates the shared value.
    public init(host: String, port: Int, initMilliseconds: Int = 500) {
        self.host = host
        self.port = port
        self.initMilliseconds = initMilliseconds
    }
}
