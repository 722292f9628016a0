/// Whether a slot holds one of the N workers or one of the extra processes started after them.
public enum ChildKind: String, Hashable, Sendable, Codable {
    /// One of the N worker processes (indices 0..N-1).
    case worker
    /// An extra process (aiotools' `extra_procs`), indexed after the workers.
    case extra
}
