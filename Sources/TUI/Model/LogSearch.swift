import CorralEngine

/// What `/` looks for in the kept output: plain text, case-insensitive; or, when the pattern
/// starts with `re:`, a regular expression (case-insensitive too).
package struct LogSearch: @unchecked Sendable {
    /// The pattern as typed.
    package let pattern: String
    private let folded: [UInt8]
    private let isASCII: Bool
    private let regex: PosixRegex?

    /// A search for `pattern`; throws a message for an empty pattern or an invalid expression.
    package init(_ pattern: String) throws(SearchError) {
        self.pattern = pattern
        if pattern.hasPrefix("re:") {
            let expression = String(pattern.dropFirst(3))
            guard !expression.isEmpty else { throw SearchError(message: "re: needs an expression after it") }
            do {
                regex = try PosixRegex(expression, ignoringCase: true)
            } catch {
                throw SearchError(message: "not a regular expression: \(expression) (\(error.message))")
            }
            folded = []
            isASCII = false
        } else {
            guard !pattern.isEmpty else { throw SearchError(message: "type something to search for") }
            regex = nil
            isASCII = pattern.utf8.allSatisfy { $0 < 0x80 }
            folded = isASCII ? pattern.utf8.map(Self.lower) : Array(pattern.lowercased().utf8)
        }
    }

    /// Whether `text` has a match.
    package func matches(_ text: String) -> Bool {
        if let regex { return regex.matches(text) }
        if isASCII {
            var text = text
            return text.withUTF8 { Self.find(folded, in: $0, from: 0) != nil }
        }
        return text.lowercased().contains(pattern.lowercased())
    }

    /// The matches in `text`, as character offsets (for highlighting).
    package func ranges(in text: String) -> [Range<Int>] {
        if let regex {
            let utf8 = text.utf8
            return regex.byteRanges(in: text).map { range in
                let lower = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
                let upper = utf8.index(utf8.startIndex, offsetBy: range.upperBound)
                return text.distance(from: text.startIndex, to: lower)..<text.distance(from: text.startIndex, to: upper)
            }
        }
        let characters = Array(text.lowercased())
        let needle = Array(pattern.lowercased())
        guard !needle.isEmpty, characters.count >= needle.count else { return [] }
        var found: [Range<Int>] = []
        var start = 0
        while start + needle.count <= characters.count {
            if characters[start..<start + needle.count].elementsEqual(needle) {
                found.append(start..<start + needle.count)
                start += needle.count
            } else {
                start += 1
            }
        }
        return found
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }

    /// The first offset of `needle` (lower-case ASCII) in `haystack`, ignoring ASCII case.
    private static func find(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if lower(haystack[index]) == first {
                var offset = 1
                while offset < needle.count, lower(haystack[index + offset]) == needle[offset] { offset += 1 }
                if offset == needle.count { return index }
            }
            index += 1
        }
        return nil
    }
}

/// Why a search pattern cannot be used.
package struct SearchError: Error, Equatable {
    /// What to tell the operator.
    package var message: String
}
