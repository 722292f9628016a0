import Glibc

/// Reads and edits this process's environment without Foundation.
enum Environment {
    /// The value of `name`, or nil.
    static func value(of name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        return String(cString: raw)
    }

    /// Removes `name` from the environment (so grandchildren do not inherit it).
    static func remove(_ name: String) {
        unsetenv(name)
    }

    /// Every `NAME=value` entry, in order.
    static func entries() -> [String] {
        var result: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            result.append(String(cString: entry))
            cursor += 1
        }
        return result
    }
}
