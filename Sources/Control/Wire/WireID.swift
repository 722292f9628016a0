/// A client's `"id"`: any JSON scalar, echoed in the reply as it was given.
package enum WireID: Decodable, Sendable, Equatable {
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let integer = try? container.decode(Int.self) {
            self = .integer(integer)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    /// The value to put back in a reply.
    package var json: JSONObject.Value {
        switch self {
        case .string(let text): return .string(text)
        case .integer(let integer): return .int(integer)
        case .number(let number): return .number(number)
        case .bool(let flag): return .bool(flag)
        }
    }
}
