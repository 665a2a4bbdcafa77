// swift-tools-version: 6.1
import PackageDescription

/// Settings every Bosun target shares: Swift 6 mode comes from the tools version; these add the
/// upcoming features we rely on so that imports and existentials stay explicit.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "bosun",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bosun", targets: ["bosun"]),
        .executable(name: "bosun-local-cpi", targets: ["bosun-local-cpi"]),
        .executable(name: "bosun-agent", targets: ["bosun-agent"]),
        .executable(name: "bosun-director", targets: ["bosun-director"]),
        .library(name: "BosunCore", targets: ["BosunCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/fluent-kit.git", from: "1.57.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .target(
            name: "BosunCore",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Collections", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Credentials",
            dependencies: [
                "BosunCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strictSettings
        ),
        .target(name: "BosunAPI", dependencies: ["BosunCore"], swiftSettings: strictSettings),
        .target(name: "AgentProtocol", dependencies: ["BosunCore"], swiftSettings: strictSettings),
        .target(
            name: "NATS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "CPI",
            dependencies: [
                "BosunCore",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "LocalCPI",
            dependencies: [
                "CPI", "BosunCore",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Blobstore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(name: "CBosunShims"),
        .target(
            name: "Agent",
            dependencies: [
                "AgentProtocol", "NATS", "BosunCore", "CBosunShims", "Blobstore",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Director",
            dependencies: [
                "BosunCore", "BosunAPI", "AgentProtocol", "NATS", "CPI", "LocalCPI", "Credentials", "Blobstore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "BosunCLI",
            dependencies: [
                "BosunAPI", "BosunCore", "Credentials",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(name: "bosun", dependencies: ["BosunCLI"], swiftSettings: strictSettings),
        .executableTarget(name: "bosun-local-cpi", dependencies: ["LocalCPI"], swiftSettings: strictSettings),
        .executableTarget(name: "bosun-agent", dependencies: ["Agent"], swiftSettings: strictSettings),
        .executableTarget(name: "bosun-director", dependencies: ["Director"], swiftSettings: strictSettings),
        .executableTarget(
            name: "bosun-benchmarks",
            dependencies: [
                "BosunCore", "NATS", "CPI", "LocalCPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/bosun-benchmarks",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BosunCoreTests",
            dependencies: ["BosunCore"],
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CredentialsTests",
            dependencies: [
                "Credentials",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "Agent", "AgentProtocol", "BosunCore", "NATS", "Director", "LocalCPI", "TestSupport", "Blobstore",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "CPITests", dependencies: ["CPI", "BosunCore"], swiftSettings: strictSettings),
        .testTarget(
            name: "LocalCPITests", dependencies: ["LocalCPI", "CPI", "BosunCore", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "AgentProtocolTests", dependencies: ["AgentProtocol", "BosunCore"], swiftSettings: strictSettings),
        .target(
            name: "TestSupport",
            dependencies: [
                "NATS", "Blobstore", "Director",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "DirectorTests",
            dependencies: [
                "Director", "NATS", "AgentProtocol", "BosunCore", "TestSupport", "Blobstore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "NATSTests",
            dependencies: [
                "NATS", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BosunCLITests",
            dependencies: ["BosunCLI", "TestSupport", "Director", "BosunCore", "Blobstore", "NATS"],
            swiftSettings: strictSettings
        ),
    ]
)
