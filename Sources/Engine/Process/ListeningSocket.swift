import SystemPackage

/// A listening socket handed to every child under a name (systemd's `LISTEN_FDNAMES`).
public struct ListeningSocket: Sendable, Hashable {
    /// The name the children see; no `:` (the separator of `LISTEN_FDNAMES`).
    public var name: String
    /// The socket.
    public var descriptor: FileDescriptor

    /// A socket named `name`.
    public init(name: String, descriptor: FileDescriptor) {
        self.name = name
        self.descriptor = descriptor
    }
}
