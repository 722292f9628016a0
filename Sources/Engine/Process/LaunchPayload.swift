/// What the main process hands to every Swift worker: an encoded shared value and listening
/// sockets, inherited as descriptors 3, 4, … in systemd's `LISTEN_FDS` convention.
struct LaunchPayload {
    /// The shared value as JSON, passed in `CORRAL_SHARED`.
    var sharedJSON: String?
    /// Named descriptors, in the order they are given to the children.
    var sockets: [(name: String, descriptor: CInt)] = []
}
