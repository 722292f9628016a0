// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Corral",
    products: [
        .library(name: "CorralEngine", targets: ["CorralEngine"]),
        .executable(name: "corral", targets: ["corral"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
    ],
    targets: [
        .target(
            name: "CProcessShims",
            cSettings: [.define("_GNU_SOURCE")]),
        .systemLibrary(
            name: "CNcursesw",
            path: "Sources/CNcursesw",
            providers: [.apt(["libncursesw5-dev"])]),
        .target(
            name: "CorralEngine",
            dependencies: [
                "CProcessShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Sources/Engine"),
        .target(
            name: "CorralTUI",
            dependencies: ["CorralEngine", "CNcursesw"],
            path: "Sources/TUI"),
        .target(
            name: "CorralDemo",
            dependencies: [
                "CorralEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/Demo"),
        .executableTarget(
            name: "corral",
            dependencies: [
                "CorralEngine", "CorralTUI", "CorralDemo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .executableTarget(
            name: "CorralBench",
            dependencies: [
                "CorralEngine", "CorralTUI", "corral-bench-worker",
            ]),
        .executableTarget(
            name: "corral-bench-worker",
            dependencies: ["CorralEngine"],
            path: "Sources/CorralBenchWorker",
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-l_FoundationCollections", "-l_FoundationCShims"])]),
        .executableTarget(
            name: "corral-test-worker",
            dependencies: ["CorralEngine"],
            path: "Sources/CorralTestWorker"),
        .target(
            name: "CorralTestSupport",
            path: "Tests/Support"),
        .testTarget(
            name: "EngineTests",
            dependencies: ["CorralEngine", "corral-test-worker", "CorralTestSupport"]),
        .testTarget(
            name: "TUITests",
            dependencies: ["CorralTUI"],
            exclude: ["Golden"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["corral", "CorralTestSupport"]),
        .testTarget(
            name: "ConsoleTests",
            dependencies: ["corral", "CorralEngine", "CorralTUI"]),
    ],
    swiftLanguageModes: [.v6]
)
