import Testing
@testable import KinesisLoad
