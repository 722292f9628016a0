/// What a synchronous extra process's body gets.
public struct ExtraContext: Sendable {
    /// The extra's slot index (after the workers').
    public let index: Int
    /// Fires when the server stops.
    public let stopToken: StopToken
    /// Sets the status text the supervisor shows for this process (`STATUS=`).
    public func setStatus(_ text: String) { try? notify?.status(text) }

    let notify: NotifyClient?
}
