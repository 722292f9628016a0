import Glibc

extension SupervisorCore {
    /// What the driver must do.
    enum Action: Hashable, Sendable {
        /// The signal to the slot's process group (what its process started gets it too, as
        /// from a terminal), and to the process itself if it left that group.
        case signal(slot: Int, Signal)
        /// `SIGKILL` to the slot's whole process group (and to the process if it left it).
        case killGroup(slot: Int)
        /// The signal to the process group of the slot's outgoing process `pid` (being replaced
        /// by a reload; see ``Outgoing``).
        case signalOutgoing(slot: Int, pid: pid_t, Signal)
        /// `SIGKILL` to the process group of the slot's outgoing process `pid`.
        case killOutgoingGroup(slot: Int, pid: pid_t)
        /// Run the configured probe of the slot's process of `generation` (for readiness or
        /// health) and report with ``SupervisorCore/probeFinished(slot:generation:purpose:ok:detail:now:)``.
        case probe(slot: Int, generation: Int, ProbePurpose)
        /// Hand this event to the front end.
        case emit(EngineEvent)
        /// Read the programs again (``SupervisorConfiguration/programSource``) and give them to
        /// ``SupervisorCore/update(_:now:)``, or report why they cannot be read.
        case readPrograms
    }

    /// Why the driver runs a probe.
    enum ProbePurpose: Hashable, Sendable {
        /// Whether a starting process is ready.
        case readiness
        /// Whether a running process is healthy.
        case health
    }
}
