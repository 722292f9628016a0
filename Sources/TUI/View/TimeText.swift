/// Short renderings of durations for the dashboard.
enum TimeText {
    /// `42s`, `3m04s`, `2h05m`.
    static func uptime(_ duration: Duration) -> String {
        let seconds = max(0, duration.components.seconds)
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(pad(seconds % 60))s" }
        return "\(seconds / 3600)h\(pad(seconds / 60 % 60))m"
    }

    /// `7.4 s` (tenths, rounded up so a countdown never shows 0.0 while time is left).
    static func countdown(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let tenths = max(0, seconds * 10 + (attoseconds + 99_999_999_999_999_999) / 100_000_000_000_000_000)
        return "\(tenths / 10).\(tenths % 10) s"
    }

    /// `10 s`, `0.5 s`, or `none` for nil.
    static func timeout(_ duration: Duration?) -> String {
        guard let duration else { return "none" }
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        return "\(milliseconds / 1000).\(milliseconds % 1000 / 100) s"
    }

    private static func pad(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
