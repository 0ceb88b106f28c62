// `import KinesisTesting` in an app's tests gives the engine too: `InMemoryKinesis`, its faults
// and clock live in `KinesisEngine`, which production code (the local endpoint, the load runner)
// uses without the doubles.
@_exported import KinesisEngine
