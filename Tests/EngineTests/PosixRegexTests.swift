import Testing

@testable import CorralEngine

/// The regular expressions of `log:re:` readiness and the dashboard's `re:` search.
@Suite("PosixRegex")
struct PosixRegexTests {
    @Test("POSIX extended syntax with \\d and \\D, case-insensitive when asked, match ranges in bytes")
    func syntax() throws {
        let digits = try PosixRegex(#"GET /item/\d+ -> 5\d\d"#)
        #expect(digits.matches("GET /item/12 -> 503"))
        #expect(!digits.matches("GET /item/ab -> 503"))
        #expect(try PosixRegex(#"^[\d]+$"#).matches("2026"))
        #expect(try PosixRegex(#"\D"#).matches("12a"))
        #expect(try PosixRegex("startup complete", ignoringCase: true).matches("Application STARTUP COMPLETE."))
        #expect(try PosixRegex("ab").byteRanges(in: "xabyab") == [1..<3, 4..<6])
        #expect(throws: RegexError.self) { try PosixRegex("(") }
    }

    @Test("a pattern that makes a backtracking engine run for minutes is matched at once")
    func noBacktracking() throws {
        let regex = try PosixRegex("(a+)+$", ignoringCase: true)
        let line = String(repeating: "a", count: 60) + "!"
        let started = ContinuousClock.now
        var hits = 0
        for _ in 0..<3000 where regex.matches(line) { hits += 1 }
        #expect(hits == 0)
        // A hang check, not a speed goal: Swift's Regex took over a minute on this.
        #expect(started.duration(to: .now) < .seconds(10))
    }
}
