import Glibc

/// Wall-clock timestamps for headless output.
package enum WallClock {
    /// Local time of day, `12:00:01.234`.
    package static func timeOfDay() -> String {
        let (parts, milliseconds) = now(utc: false)
        return "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(pad(milliseconds, 3))"
    }

    /// UTC, ISO 8601 with milliseconds, `2026-11-26T12:00:01.234Z`.
    package static func iso8601() -> String {
        let (parts, milliseconds) = now(utc: true)
        let date = "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))"
        return "\(date)T\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(pad(milliseconds, 3))Z"
    }

    /// The current time broken down (local or UTC), and its milliseconds.
    private static func now(utc: Bool) -> (tm, Int32) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        if utc { gmtime_r(&seconds, &parts) } else { localtime_r(&seconds, &parts) }
        return (parts, Int32(spec.tv_nsec / 1_000_000))
    }

    private static func pad(_ value: Int32, _ width: Int = 2) -> String {
        var text = String(value)
        while text.count < width { text = "0" + text }
        return text
    }
}
