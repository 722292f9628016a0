/// How a process is named: its program and its index in the program (`web.1`). A run of one
/// command names its workers `worker.N` and its extras `extra.N`, N the slot index.
public struct ProcessName: Hashable, Sendable, CustomStringConvertible {
    /// The program: a program's name, or `worker` / `extra`.
    public var program: String
    /// Its index in the program.
    public var index: Int

    /// A name.
    public init(program: String, index: Int) {
        self.program = program
        self.index = index
    }

    /// `web.1`.
    public var description: String { "\(program).\(index)" }

    /// The name `web.1` stands for; nil for a text that is not `PROGRAM.INDEX`.
    public init?(parsing text: String) {
        guard let dot = text.lastIndex(of: "."), let index = Int(text[text.index(after: dot)...]), index >= 0,
            dot > text.startIndex
        else { return nil }
        self.init(program: String(text[..<dot]), index: index)
    }
}
