/// Where a run of programs' definitions are read from, again on each reload: a Procfile or a
/// `corral.toml` with its env files. Its reader runs on the supervisor's thread, so it should
/// only read small local files.
public struct ProgramSource: Sendable {
    /// Why the programs could not be read: every error, one per line (`corral.toml:12: …`).
    public struct Failure: Error, Sendable, Hashable {
        /// The errors, for the reply, the event and the dashboard.
        public var message: String

        /// A failure saying `message`.
        public init(_ message: String) { self.message = message }
    }

    /// What it is, for messages: `corral.toml`.
    public var name: String
    /// Reads the programs as now defined.
    public var read: @Sendable () -> Result<[Program], Failure>

    /// A source named `name` whose programs `read` returns.
    public init(name: String, read: @escaping @Sendable () -> Result<[Program], Failure>) {
        self.name = name
        self.read = read
    }
}
