// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "KinesisToolkit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Kinesis", targets: ["Kinesis"]),
        .library(name: "KinesisProducer", targets: ["KinesisProducer"]),
        .library(name: "KinesisEngine", targets: ["KinesisEngine"]),
        .library(name: "KinesisConsumer", targets: ["KinesisConsumer"]),
        .library(name: "KinesisCheckpointSQLite", targets: ["KinesisCheckpointSQLite"]),
        .library(name: "KinesisTesting", targets: ["KinesisTesting"]),
        .library(name: "KinesisLocal", targets: ["KinesisLocal"]),
        .library(name: "KinesisCloudWatch", targets: ["KinesisCloudWatch"]),
        .executable(name: "kinesis-load", targets: ["kinesis-load"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .target(
            name: "Kinesis",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KinesisConsumer",
            dependencies: [
                "Kinesis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Checkpoints in SQLite: a product of its own, so an app that keeps them elsewhere never builds GRDB.
        .target(
            name: "KinesisCheckpointSQLite",
            dependencies: [
                "KinesisConsumer",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // Metrics to CloudWatch (PutMetricData, or Embedded Metric Format lines): a product of its
        // own, so an app that sends its metrics elsewhere never builds it.
        .target(
            name: "KinesisCloudWatch",
            dependencies: [
                "Kinesis",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KinesisEngine",
            dependencies: ["Kinesis"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KinesisProducer",
            dependencies: [
                "Kinesis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KinesisTesting",
            dependencies: [
                "Kinesis",
                "KinesisEngine",
                "KinesisProducer",
                "KinesisConsumer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KinesisLocal",
            dependencies: [
                "Kinesis",
                "KinesisEngine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "KinesisLoad",
            dependencies: [
                "Kinesis",
                "KinesisProducer",
                "KinesisConsumer",
                "KinesisEngine",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "kinesis-load",
            dependencies: [
                "Kinesis",
                "KinesisLoad",
                "KinesisEngine",
                "KinesisLocal",
                "KinesisProducer",
                "KinesisConsumer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                "KinesisCloudWatch",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the test targets share (starting moto_server); not a product.
        .target(name: "TestSupport", dependencies: ["Kinesis"], path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(
            name: "KinesisTests",
            dependencies: [
                "Kinesis",
                "KinesisConsumer",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KinesisConsumerTests",
            dependencies: [
                "Kinesis", "KinesisConsumer", "KinesisCheckpointSQLite", "KinesisProducer", "KinesisTesting", "TestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KinesisProducerTests",
            dependencies: [
                "Kinesis", "KinesisProducer", "KinesisTesting",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KinesisLoadTests",
            dependencies: [
                "Kinesis", "KinesisProducer", "KinesisConsumer", "KinesisTesting", "KinesisLoad",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KinesisEngineTests",
            dependencies: ["Kinesis", "KinesisEngine", "KinesisTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KinesisLocalTests",
            dependencies: [
                "Kinesis",
                "KinesisEngine",
                "KinesisTesting",
                "KinesisLocal",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KinesisCloudWatchTests",
            dependencies: [
                "Kinesis", "KinesisCloudWatch", "KinesisProducer", "KinesisTesting",
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KinesisTestingTests",
            dependencies: ["Kinesis", "KinesisProducer", "KinesisTesting"],
            swiftSettings: swiftSettings
        ),
    ]
)
