/// Whose `sd_notify` datagrams count for a child (systemd's `NotifyAccess=`).
public enum NotifyAccess: String, Sendable, Hashable, Codable {
    /// Only the child process itself.
    case main
    /// Any process of the child's process group (a shell script's `systemd-notify --ready`).
    /// Never a process outside it; a sender that has already exited when the datagram is read
    /// cannot be placed, and its datagram is dropped.
    case all
}
