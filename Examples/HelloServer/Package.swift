// swift-tools-version: 6.1
// An example of using CorralEngine from your own package; CI builds it.
import PackageDescription

let package = Package(
    name: "HelloServer",
    dependencies: [
        // In your package: .package(url: "https://github.com/<you>/corral.git", from: "0.1.0")
        .package(name: "Corral", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "HelloServer",
            dependencies: [.product(name: "CorralEngine", package: "Corral")])
    ],
    swiftLanguageModes: [.v6]
)
