/// Which slots a command addresses.
public enum SlotTarget: Hashable, Sendable {
    /// Every live child.
    case all
    /// One slot by index: its serving process (during a reload, the old one until its
    /// successor is running).
    case slot(Int)
    /// One process of a slot by its generation (during a reload, the old one or the new one).
    case process(slot: Int, generation: Int)
    /// Every process of a program, in a run of programs (each one's serving process).
    case program(String)
}
