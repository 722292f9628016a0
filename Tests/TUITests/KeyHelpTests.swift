import Foundation
import Testing

@testable import CorralTUI

@Suite("Key help: one source for the legend, the popup, --help and the README")
struct KeyHelpTests {
    @Test("the README's key table is KeyHelp's, row by row, in order")
    func readmeTable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let rows = KeyHelp.entries.map { entry in
            "| " + entry.keys.split(separator: " ").map { "`\($0)`" }.joined(separator: " ") + " | \(entry.action) |"
        }
        let table = (["| key | action |", "| --- | --- |"] + rows).joined(separator: "\n")
        #expect(readme.contains(table), "README.md's key table differs from KeyHelp.entries:\n\(table)")
    }

    @Test("the legend and both help forms list every entry")
    func listings() {
        #expect(
            KeyHelp.legend
                == "i INT all  t TERM all  K kill all  ↑↓ select  s signal  r/R restart/reload  +- scale  l log  / search  q quit  ? help"
        )
        for (line, entry) in zip(KeyHelp.lines(), KeyHelp.entries) { #expect(line.hasSuffix(entry.action)) }
        for (line, entry) in zip(KeyHelp.lines(short: true), KeyHelp.entries) { #expect(line.hasPrefix(entry.keys)) }
        #expect(KeyHelp.lines(short: true).allSatisfy { $0.count <= 58 }, "the short form must fit 64 columns")
    }
}
