import CorralEngine

/// Short renderings of durations for every view (the dashboard, `ctl status`, `ls`).
package enum TimeText {
    /// `42s`, `3m04s`, `2h05m`.
    package static func uptime(_ duration: Duration) -> String {
        let seconds = max(0, duration.components.seconds)
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(pad(seconds % 60))s" }
        return "\(seconds / 3600)h\(pad(seconds / 60 % 60))m"
    }

    /// `10 s`, `0.5 s`, or `none` for nil.
    package static func timeout(_ duration: Duration?) -> String { duration?.secondsText ?? "none" }

    private static func pad(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
