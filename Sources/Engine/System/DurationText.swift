/// The one place durations become milliseconds and text, for the engine, the dashboard and the
/// headless writers alike (one rounding rule each, named).
extension Duration {
    /// Whole milliseconds: rounded toward zero, or up (a poll timeout must not wake early).
    package func milliseconds(roundingUp: Bool = false) -> Int64 {
        let (seconds, attoseconds) = components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        return seconds * 1000 + (attoseconds + (roundingUp ? perMillisecond - 1 : 0)) / perMillisecond
    }

    /// `10 s`, `0.5 s`, `1.25 s`: seconds with up to three decimals, trailing zeros dropped.
    package var secondsText: String {
        let milliseconds = milliseconds()
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        var fraction = String(abs(milliseconds) % 1000)
        while fraction.count < 3 { fraction = "0" + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(milliseconds / 1000).\(fraction) s"
    }

    /// `7.4 s`: tenths, rounded up, so a countdown never shows 0.0 while time is left; never
    /// negative.
    package var countdownText: String {
        let (seconds, attoseconds) = components
        let tenths = max(0, seconds * 10 + (attoseconds + 99_999_999_999_999_999) / 100_000_000_000_000_000)
        return "\(tenths / 10).\(tenths % 10) s"
    }

    /// `1.500`, `-0.250`: seconds with three decimals, for JSON.
    package var decimalSeconds: String {
        let milliseconds = milliseconds()
        var fraction = String(abs(milliseconds) % 1000)
        while fraction.count < 3 { fraction = "0" + fraction }
        return "\(milliseconds < 0 ? "-" : "")\(abs(milliseconds) / 1000).\(fraction)"
    }
}
