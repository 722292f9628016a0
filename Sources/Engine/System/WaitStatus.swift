import Glibc

/// A child's end as `waitid(2)` reports it (`siginfo_t.si_code` and `si_status`); the model
/// decodes it into a `Termination`.
package struct WaitStatus: Hashable, Sendable {
    /// `CLD_EXITED`, `CLD_KILLED` or `CLD_DUMPED`.
    package var code: CInt
    /// The exit code, or the signal's number.
    package var status: CInt

    /// Whether the status says the child ended (else `waitid` with `WNOHANG` found nothing).
    var isEnd: Bool { code == CLD_EXITED || code == CLD_KILLED || code == CLD_DUMPED }
}
