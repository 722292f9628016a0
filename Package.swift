// swift-tools-version: 6.1
// Target folders: a Swift library target `CorralX` lives in `Sources/X` (`Tests/X` for the test
// support library); every other target (executables, C and system libraries, tests) lives in a
// folder named exactly as the target.
import PackageDescription

/// The git revision of the checkout being built (`corral --version` says it), with `-dirty` when
/// it has uncommitted changes; empty outside a git checkout.
let buildRevision: String = {
    guard let git = Context.gitInformation else { return "" }
    return String(git.currentCommit.prefix(12)) + (git.hasUncommittedChanges ? "-dirty" : "")
}()

let package = Package(
    name: "Corral",
    products: [
        .library(name: "CorralEngine", targets: ["CorralEngine"]),
        .library(name: "CorralServiceLifecycle", targets: ["CorralServiceLifecycle"]),
        .executable(name: "corral", targets: ["corral"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.7.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        .target(
            name: "CProcessShims",
            cSettings: [.define("_GNU_SOURCE")]),
        .target(
            name: "CBuildInfo",
            cSettings: [.define("CORRAL_MANIFEST_REVISION", to: "\"\(buildRevision)\"")]),
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
            name: "CorralServiceLifecycle",
            dependencies: [
                "CorralEngine",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/ServiceLifecycle"),
        .target(
            name: "CorralModel",
            dependencies: [
                "CorralEngine",
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            path: "Sources/Model"),
        .target(
            name: "CorralControl",
            dependencies: ["CorralEngine", "CorralModel"],
            path: "Sources/Control"),
        .target(
            name: "CorralProject",
            dependencies: ["CorralEngine", .product(name: "TOMLKit", package: "TOMLKit")],
            path: "Sources/Project"),
        .target(
            name: "CorralTUI",
            dependencies: [
                "CorralEngine", "CorralModel", "CNcursesw",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Sources/TUI"),
        .target(
            name: "CorralDemo",
            dependencies: [
                "CorralEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Sources/Demo"),
        .executableTarget(
            name: "corral",
            dependencies: [
                "CorralEngine", "CorralModel", "CorralControl", "CorralProject", "CorralTUI", "CorralDemo",
                "CBuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .executableTarget(
            name: "CorralBench",
            dependencies: [
                "CorralEngine", "CorralModel", "CorralTUI", "CorralLoad", "corral-bench-worker", "corral",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .executableTarget(
            name: "corral-bench-worker",
            dependencies: ["CorralEngine"],
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-l_FoundationCollections", "-l_FoundationCShims"])]),
        .executableTarget(
            name: "corral-test-worker",
            dependencies: [
                "CorralEngine", "CorralServiceLifecycle",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .target(
            name: "CorralLoad",
            path: "Sources/Load"),
        .target(
            name: "CorralTestSupport",
            path: "Tests/TestSupport"),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "CorralEngine", "corral-test-worker", "CorralTestSupport",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .testTarget(
            name: "ServiceLifecycleTests",
            dependencies: [
                "CorralServiceLifecycle", "CorralTestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .testTarget(
            name: "ProjectTests",
            dependencies: ["CorralProject", "CorralTestSupport"]),
        .testTarget(
            name: "TUITests",
            dependencies: ["CorralTUI", "CorralModel"],
            exclude: ["Golden"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["corral", "CorralEngine", "CorralLoad", "CorralTestSupport"]),
        .testTarget(
            name: "ConsoleTests",
            dependencies: ["corral", "CorralEngine", "CorralModel", "CorralControl", "CorralProject", "CorralTUI"]),
    ],
    swiftLanguageModes: [.v6]
)

// A module's code sees only the members of what it imports itself, so nothing of Foundation
// (and ICU with it) is used, and linked, because a dependency happens to import it.
for target in package.targets
where ![.system, .binary, .plugin].contains(target.type)
    && !["CProcessShims", "CBuildInfo"].contains(target.name)
{
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
