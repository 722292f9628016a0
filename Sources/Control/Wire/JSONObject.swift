import CorralEngine

/// A JSON object that keeps its keys in insertion order (so `time` and `event` come first).
package struct JSONObject {
    package enum Value {
        case string(String)
        case int(Int)
        case bool(Bool)
        case seconds(Duration)
        case number(Double)
        case ints([Int])
        case strings([String])
        case object(JSONObject)
        case objects([JSONObject])
        case null
    }

    private var entries: [(String, Value)] = []

    /// An empty object.
    package init() {}

    package subscript(key: String) -> Value? {
        get { entries.first { $0.0 == key }?.1 }
        set {
            entries.removeAll { $0.0 == key }
            if let newValue { entries.append((key, newValue)) }
        }
    }

    package var encoded: String {
        "{" + entries.map { "\(Self.quote($0.0)):\(Self.encode($0.1))" }.joined(separator: ",") + "}"
    }

    private static func encode(_ value: Value) -> String {
        switch value {
        case .string(let text): return quote(text)
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .ints(let numbers): return "[" + numbers.map(String.init).joined(separator: ",") + "]"
        case .strings(let texts): return "[" + texts.map(quote).joined(separator: ",") + "]"
        case .object(let object): return object.encoded
        case .objects(let objects): return "[" + objects.map(\.encoded).joined(separator: ",") + "]"
        case .null: return "null"
        case .seconds(let duration): return duration.decimalSeconds
        case .number(let number): return number.isFinite ? String(number) : "null"
        }
    }

    /// A JSON string literal, escaping quotes, backslashes and control characters.
    package static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
