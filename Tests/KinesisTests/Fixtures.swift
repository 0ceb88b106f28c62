import Foundation

/// Loads a JSON fixture shipped with the test target.
func loadFixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    guard let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil) else {
        throw FixtureMissing(name: name)
    }
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}

struct FixtureMissing: Error, CustomStringConvertible {
    var name: String
    var description: String { "fixture \(name) is not in the test bundle" }
}
