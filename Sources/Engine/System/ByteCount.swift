/// Byte counts as people read them: `812 KiB`, `12.3 MiB`, `1.2 GiB`.
package enum ByteCount {
    /// `bytes` in the largest binary unit that keeps it at 1 or more, one decimal past KiB.
    package static func text(_ bytes: Int) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        guard bytes >= 1024 else { return "\(bytes) B" }
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let rounded = unit == 0 ? "\(Int(value.rounded()))" : "\(Double(Int(value * 10)) / 10)"
        return "\(rounded) \(units[unit])"
    }
}
