import ArgumentParser
import CBuildInfo

/// corral's version: the one number of a release, and the git revision it was built from.
enum CorralVersion {
    /// The release, bumped by hand (semantic versioning).
    static let number = "0.3.0"

    /// The git revision of the checkout it was built from (nil: not built from one).
    static var revision: String? {
        let text = String(cString: corral_build_revision())
        return text.isEmpty ? nil : text
    }

    /// `0.3.0 (git 3f2a9c1d4e5b)`, or `0.3.0`.
    static var text: String { revision.map { "\(number) (git \($0))" } ?? number }
}

/// `corral version`: what `corral --version` says.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", _superCommandName: "corral",
        abstract: "Print corral's version (and the git revision it was built from).")

    func run() throws { print(CorralVersion.text) }
}
