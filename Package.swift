// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Corral",
    products: [
        .library(name: "CorralEngine", targets: ["CorralEngine"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
    ],
    targets: [
        .target(
            name: "CProcessShims",
            cSettings: [.define("_GNU_SOURCE")]),
        .target(
            name: "CorralEngine",
            dependencies: [
                "CProcessShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Sources/Engine"),
        .executableTarget(
            name: "corral-test-worker",
            dependencies: ["CorralEngine"],
            path: "Sources/CorralTestWorker"),
        .testTarget(
            name: "EngineTests",
            dependencies: ["CorralEngine", "corral-test-worker"]),
    ],
    swiftLanguageModes: [.v6]
)
