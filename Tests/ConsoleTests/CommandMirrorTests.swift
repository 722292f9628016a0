import ArgumentParser
@_spi(Reflection) import Swift
import Testing

@testable import corral

/// corral's command lists its stored properties for argument-parser itself (a custom mirror, to
/// spare the runtime's reflection at start-up): the list must be the type's own.
@Suite("Command line: the options argument-parser reflects")
struct CommandMirrorTests {
    /// The stored properties of `type` in declaration order, as the runtime records them.
    func storedProperties(of type: Any.Type) -> [String] {
        var names: [String] = []
        _ = _forEachField(of: type) { name, _, _, _ in
            names.append(String(cString: name))
            return true
        }
        return names
    }

    @Test("the mirror names every stored property of corral's command, in declaration order")
    func everyStoredProperty() throws {
        let fields = storedProperties(of: CorralCommand.self)
        let labels = Mirror(reflecting: try CorralCommand.parse(splitting: [])).children.map { $0.label ?? "(none)" }
        #expect(fields.count > 40, "\(fields)")
        #expect(labels == fields)
    }

    @Test("the mirror's values are the parsed command's own")
    func parsedValues() throws {
        let command = try CorralCommand.parse(splitting: ["-w", "3", "--json", "--", "sleep", "1"])
        let children = Dictionary(
            Mirror(reflecting: command).children.map { ($0.label ?? "", $0.value) },
            uniquingKeysWith: { first, _ in first })
        #expect((children["_workers"] as? Option<Int?>)?.wrappedValue == 3)
        #expect((children["_json"] as? Flag<Bool>)?.wrappedValue == true)
        #expect((children["_command"] as? Argument<[String]>)?.wrappedValue == ["sleep", "1"])
    }
}
