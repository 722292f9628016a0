import Glibc

/// Wall-clock timestamps for headless output.
package enum WallClock {
    /// Local time of day, `12:00:01.234`.
    package static func timeOfDay() -> String {
        let (parts, milliseconds) = now(utc: false)
        return "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(pad(milliseconds, 3))"
    }

    /// UTC, ISO 8601 with milliseconds, `2026-11-26T12:00:01.234Z` (of `instant`: now by default).
    package static func iso8601(_ instant: timespec = instant()) -> String {
        var seconds = instant.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let milliseconds = Int32(instant.tv_nsec / 1_000_000)
        let date = "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))"
        return "\(date)T\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(pad(milliseconds, 3))Z"
    }

    /// The wall clock now (`CLOCK_REALTIME`).
    package static func instant() -> timespec {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return spec
    }

    /// Local time of day for many lines a second (children's output): the hours, minutes and
    /// seconds are worked out once a second, only the milliseconds for each line.
    package struct TimeOfDay {
        private var second: Int = -1
        private var prefix = ""

        /// A clock with nothing worked out yet.
        package init() {}

        /// `12:00:01.234`, as ``WallClock/timeOfDay()``.
        package mutating func text() -> String {
            var spec = timespec()
            clock_gettime(CLOCK_REALTIME, &spec)
            if spec.tv_sec != second {
                second = spec.tv_sec
                var seconds = spec.tv_sec
                var parts = tm()
                localtime_r(&seconds, &parts)
                prefix = "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec))."
            }
            return prefix + pad(Int32(spec.tv_nsec / 1_000_000), 3)
        }
    }

    /// UTC ISO 8601 stamps for many lines a second (log files): the date and time are worked
    /// out once a second, only the milliseconds for each line.
    package struct UTCStamp {
        private var second: Int = -1
        private var prefix = ""
        private var prefixBytes: [UInt8] = []

        /// A clock with nothing worked out yet.
        package init() {}

        /// `2026-11-26T12:00:01.234Z`, as ``WallClock/iso8601(_:)``.
        package mutating func text() -> String {
            let spec = WallClock.instant()
            if spec.tv_sec != second {
                second = spec.tv_sec
                let whole = WallClock.iso8601(spec)
                prefix = String(whole.prefix(whole.count - 4))
            }
            return prefix + pad(Int32(spec.tv_nsec / 1_000_000), 3) + "Z"
        }

        /// Appends the stamp's UTF-8 bytes to `buffer` (no string made: one per line of a flood).
        package mutating func append(to buffer: inout [UInt8]) {
            let spec = WallClock.instant()
            if spec.tv_sec != second {
                second = spec.tv_sec
                let whole = WallClock.iso8601(spec)
                prefix = String(whole.prefix(whole.count - 4))
                prefixBytes = Array(prefix.utf8)
            }
            let milliseconds = Int(spec.tv_nsec / 1_000_000)
            buffer.append(contentsOf: prefixBytes)
            buffer.append(UInt8(ascii: "0") + UInt8(milliseconds / 100))
            buffer.append(UInt8(ascii: "0") + UInt8(milliseconds / 10 % 10))
            buffer.append(UInt8(ascii: "0") + UInt8(milliseconds % 10))
            buffer.append(UInt8(ascii: "Z"))
        }
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

    fileprivate static func pad(_ value: Int32, _ width: Int = 2) -> String {
        var text = String(value)
        while text.count < width { text = "0" + text }
        return text
    }
}
