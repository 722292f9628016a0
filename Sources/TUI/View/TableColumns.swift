import CorralEngine

/// The process table's columns: which fit at a width, and where each starts. Columns that do not
/// fit are dropped by priority (never cut mid-value); the status column takes what is left.
enum TableColumns {
    /// One column.
    enum Kind: CaseIterable {
        case index, pid, name, state, cpu, memory, restarts, uptime

        /// Its heading.
        var heading: String {
            switch self {
            case .index: return "IDX"
            case .pid: return "PID"
            case .name: return "NAME"
            case .state: return "STATE"
            case .cpu: return "CPU%"
            case .memory: return "RSS"
            case .restarts: return "RESTARTS"
            case .uptime: return "UPTIME"
            }
        }

        /// Its width, with the gap after it.
        var width: Int {
            switch self {
            case .index: return 5
            case .pid: return 8
            case .name: return 10
            case .state: return 13
            case .cpu: return 7
            case .memory: return 8
            case .restarts: return 13
            case .uptime: return 9
            }
        }
    }

    /// Kept first when the width is short.
    static let priority: [Kind] = [.index, .pid, .state, .cpu, .memory, .restarts, .uptime, .name]
    /// The narrowest status column worth keeping a column out for.
    static let minimumStatus = 18

    /// The columns shown at `width`, in table order, with their start column; and where the
    /// status column starts.
    static func layout(width: Int) -> (columns: [(Kind, Int)], status: Int) {
        var kept: Set<Kind> = []
        var used = 1
        for kind in priority where used + kind.width + minimumStatus <= width {
            kept.insert(kind)
            used += kind.width
        }
        var columns: [(Kind, Int)] = []
        var x = 1
        for kind in Kind.allCases where kept.contains(kind) {
            columns.append((kind, x))
            x += kind.width
        }
        return (columns, x)
    }

    /// `12.3`, `105`, `-` (not sampled yet).
    static func cpuText(_ percent: Double?) -> String {
        guard let percent else { return "-" }
        return percent >= 100 ? String(Int(percent.rounded())) : String(Double(Int(percent * 10)) / 10)
    }

    /// `2.3s`, `45s`, `12m`: a countdown that fits beside `backoff` in the state column.
    static func shortCountdown(_ duration: Duration) -> String {
        let seconds = max(0, duration / .seconds(1))
        if seconds < 10 { return "\(Double(Int(seconds * 10)) / 10)s" }
        if seconds < 100 { return "\(Int(seconds))s" }
        return "\(Int(seconds / 60))m"
    }

    /// `812K`, `12.3M`, `1.2G`.
    static func memoryText(_ bytes: Int) -> String {
        let kib = Double(bytes) / 1024
        if kib < 1024 { return "\(Int(kib.rounded()))K" }
        let mib = kib / 1024
        if mib < 100 { return "\(Double(Int(mib * 10)) / 10)M" }
        if mib < 1024 { return "\(Int(mib.rounded()))M" }
        return "\(Double(Int(mib / 1024 * 10)) / 10)G"
    }
}
