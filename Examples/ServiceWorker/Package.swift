// swift-tools-version: 6.1
// An example of a worker whose body is a swift-service-lifecycle ServiceGroup (here a SwiftNIO
// HTTP server; a Hummingbird application is a Service the same way); CI builds it.
import PackageDescription

let package = Package(
    name: "ServiceWorker",
    dependencies: [
        // In your package: .package(url: "https://github.com/<you>/corral.git", from: "0.1.0")
        .package(name: "Corral", path: "../.."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "ServiceWorker",
            dependencies: [
                .product(name: "CorralEngine", package: "Corral"),
                .product(name: "CorralServiceLifecycle", package: "Corral"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "SystemPackage", package: "swift-system"),
            ])
    ],
    swiftLanguageModes: [.v6]
)
