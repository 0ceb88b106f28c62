// swift-tools-version: 6.1
// Micro-benchmarks with ordo-one's package-benchmark: a package of its own, so that the main
// build and CI never build the benchmark runtime or run these. From the repository's root:
//
//   swift package --package-path Benchmarks benchmark                      # throughput, mallocs, time
//   swift package --package-path Benchmarks benchmark thresholds check     # against Thresholds/
//
// They use only the toolkit's public API (KinesisLoad's template, recorder and verifier are
// `package` to the toolkit and cannot be reached from here).
import PackageDescription

let package = Package(
    name: "KinesisToolkitBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named: a path dependency is otherwise known by its folder, whatever the clone is called.
        .package(name: "KinesisToolkit", path: "../"),
        // MallocInterposer counts allocations; the runtime interposer is left out (not needed, not mirrored here).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "KinesisToolkitBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Kinesis", package: "KinesisToolkit"),
                .product(name: "KinesisProducer", package: "KinesisToolkit"),
                .product(name: "KinesisEngine", package: "KinesisToolkit"),
            ],
            path: "Benchmarks/KinesisToolkit",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
