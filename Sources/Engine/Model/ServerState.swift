/// The server as a whole: `starting → running → stopping → stopped`.
public enum ServerState: String, Hashable, Sendable, Codable {
    /// Children are being spawned or have not all reported ready.
    case starting
    /// Every child is running.
    case running
    /// A stop is under way.
    case stopping
    /// Every child has ended.
    case stopped
}
