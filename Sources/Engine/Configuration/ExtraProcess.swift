/// An extra process (aiotools' `extra_procs`): started after the workers, stopped with them,
/// numbered after them. It counts as running as soon as it has started.
public struct ExtraProcess: Sendable {
    /// What the extra process runs.
    public enum Body: Sendable {
        /// Any program, by argv.
        case command([String])
        /// A synchronous Swift body run in a re-executed copy of the worker executable; it is
        /// handed a ``StopToken`` and should return soon after the token fires.
        case swift(@Sendable (ExtraContext) throws -> Void)
    }

    /// What runs.
    public var body: Body

    /// An extra process running a command.
    public static func command(_ arguments: [String]) -> ExtraProcess { ExtraProcess(body: .command(arguments)) }

    /// An extra process running a synchronous Swift body in its own process.
    public static func swift(_ body: @escaping @Sendable (ExtraContext) throws -> Void) -> ExtraProcess {
        ExtraProcess(body: .swift(body))
    }
}
