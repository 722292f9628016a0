/// Every key the dashboard understands and what it does: the one source of the legend line,
/// the help popup, the keys in `corral --help`, and the README's table (a test holds the
/// README to it).
package enum KeyHelp {
    /// One key (or group of keys) and its action.
    package struct Entry: Sendable {
        /// The keys as the help shows them, separated by spaces (`s Enter`).
        package var keys: String
        /// The keys and action as the legend line shows them (`s signal`); empty: only in the help.
        package var legend: String
        /// What they do, in full.
        package var action: String
        /// What they do, for small screens.
        package var short: String
    }

    /// The keys, in the order every listing shows them.
    package static let entries: [Entry] = [
        Entry(
            keys: "i t", legend: "i INT all  t TERM all",
            action: "SIGINT (a graceful stop) / SIGTERM (a quick stop) to every process",
            short: "SIGINT / SIGTERM to every process"),
        Entry(
            keys: "K", legend: "K kill all", action: "force-kill: SIGKILL to every process group (asks first)",
            short: "SIGKILL to every process group (asks)"),
        Entry(
            keys: "↑ ↓ j k o", legend: "↑↓ select",
            action: "select a process; o sorts the table by index, CPU, memory, restarts or state",
            short: "select; o sorts (CPU, memory, …)"),
        Entry(
            keys: "s Enter d", legend: "s signal",
            action: "signal menu for the selected process: INT, TERM, KILL (asks first), HUP, USR1, USR2; d shows "
                + "its details (command, group, states, signals, last exit and error lines, descendants)",
            short: "signal menu (INT TERM KILL…); d details"),
        Entry(
            keys: "r R", legend: "r/R restart/reload",
            action: "r restarts the selected process (stop signal, then its next generation); R reloads every "
                + "worker, new before old (in a run of programs: the selected process's program)",
            short: "restart the selected / reload all"),
        Entry(
            keys: "+ -", legend: "+- scale",
            action:
                "one worker more, one fewer (the highest index retires); in a run of programs, of the selected "
                + "process's program",
            short: "one worker more / fewer"),
        Entry(
            keys: "PgUp PgDn End l", legend: "l log",
            action: "the log: PgUp / PgDn (and the mouse wheel) scroll back and forward, End or G follows the "
                + "newest again (Home or g: the oldest), l shows the selected process's log alone or all again",
            short: "log: scroll, End follows, l one process"),
        Entry(
            keys: "/ n N", legend: "/ search",
            action: "search all kept output (plain text, any case; re: starts a regular expression): jumps to the "
                + "newest match, highlights every match, shows the count; n older, N newer, Esc leaves",
            short: "search the log; n N older / newer; Esc"),
        Entry(
            keys: "q", legend: "q quit", action: "stop with the first stop signal; q again force-kills",
            short: "stop; q again force-kills"),
        Entry(
            keys: "?", legend: "? help", action: "this help; any key closes it", short: "this help; any key closes it"),
    ]

    /// `q` in a viewer attached to a corral elsewhere (`corral attach`).
    package static let detach = Entry(
        keys: "q", legend: "q detach", action: "leave this viewer; the server keeps running (t, i or K stop it)",
        short: "leave; the server keeps running")

    /// The entries of a local dashboard, or of an attached viewer (`q` detaches).
    package static func entries(attached: Bool) -> [Entry] {
        attached ? entries.map { $0.keys == "q" ? detach : $0 } : entries
    }

    /// The legend line: `i INT all  t TERM all  …`.
    package static var legend: String { legend(attached: false) }

    /// The legend line of a local dashboard or an attached viewer.
    package static func legend(attached: Bool) -> String {
        entries(attached: attached).map(\.legend).filter { !$0.isEmpty }.joined(separator: "  ")
    }

    /// One line per entry, keys in a column of their own, as wide as the widest keys:
    /// `i        SIGINT to every process`.
    package static func lines(short: Bool = false, attached: Bool = false) -> [String] {
        let listed = entries(attached: attached)
        let width = (listed.map(\.keys.count).max() ?? 0) + 2
        return listed.map { entry in
            entry.keys + String(repeating: " ", count: width - entry.keys.count) + (short ? entry.short : entry.action)
        }
    }
}
