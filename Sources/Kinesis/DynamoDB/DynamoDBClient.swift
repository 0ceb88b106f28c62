import AsyncHTTPClient
import Foundation
import Logging

/// A DynamoDB item: attribute names to values.
public typealias DynamoDBItem = [String: AttributeValue]

/// The DynamoDB calls a lease table needs, on the AWS core (SigV4 service `dynamodb`, JSON 1.0,
/// `AWS_ENDPOINT_URL_DYNAMODB`): tables (create on demand, describe, wait for ACTIVE), items
/// (get, and put, update and delete under a condition), Scan and Query with pagination.
/// A failed condition is an answer (``WriteOutcome/conditionFailed``), not an error;
/// throttling (`ProvisionedThroughputExceededException`, `ThrottlingException`,
/// `RequestLimitExceeded`) is retried by the core's ``RetryPolicy``; every other error is the
/// service's ``AWSError``, naming DynamoDB and the operation.
public final class DynamoDBClient: Sendable {
    public let core: AWSClient

    /// A client over a core made for ``AWSService/dynamoDB``.
    public init(core: AWSClient) {
        precondition(core.service == .dynamoDB, "a DynamoDBClient needs a core for the DynamoDB service, not \(core.service)")
        self.core = core
    }

    /// A client in `region`: the endpoint is `endpoint` when given, then
    /// `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`, then the regional one; credentials from
    /// the default chain unless given.
    public convenience init(
        region: String, endpoint: URL? = nil, credentials: (any CredentialProvider)? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        httpClient: HTTPClient? = nil, retry: RetryPolicy = RetryPolicy(), logger: Logger? = nil
    ) throws {
        let url = try AWSService.dynamoDB.endpoint(region: region, environment: environment, configured: endpoint)
        self.init(
            core: AWSClient(
                service: .dynamoDB, region: region, endpoint: url, credentials: credentials ?? DefaultCredentialChain(region: region, environment: environment), httpClient: httpClient,
                retry: retry, logger: logger))
    }

    /// Closes the core's HTTP client if it made it.
    public func shutdown() async throws { try await core.shutdown() }

    /// What a conditional write did.
    public enum WriteOutcome: Sendable, Hashable {
        /// Written; the item after the write when the call returns it (UpdateItem), else nil.
        case written(DynamoDBItem?)
        /// The condition did not hold: nothing was written.
        case conditionFailed
    }

    /// A condition or update expression with its placeholders (`#name`, `:value`).
    public struct Expression: Sendable, Hashable {
        public var text: String
        public var names: [String: String]
        public var values: DynamoDBItem

        public init(_ text: String, names: [String: String] = [:], values: DynamoDBItem = [:]) {
            self.text = text
            self.names = names
            self.values = values
        }
    }

    /// A table as DescribeTable gives it.
    public struct TableDescription: Sendable, Hashable, Decodable {
        public var tableName: String
        /// CREATING, ACTIVE, UPDATING, DELETING, ...
        public var tableStatus: String
        public var itemCount: Int?
        public var billingModeSummary: BillingModeSummary?

        public struct BillingModeSummary: Sendable, Hashable, Decodable {
            public var billingMode: String?
            enum CodingKeys: String, CodingKey { case billingMode = "BillingMode" }
        }

        enum CodingKeys: String, CodingKey {
            case tableName = "TableName", tableStatus = "TableStatus", itemCount = "ItemCount", billingModeSummary = "BillingModeSummary"
        }
    }

    // MARK: - Tables

    /// Creates a table keyed by one string HASH attribute, PAY_PER_REQUEST (the KCL's default
    /// since 2.3.7). Returns false when it exists already (ResourceInUseException).
    @discardableResult
    public func createTable(_ name: String, hashKey: String) async throws -> Bool {
        struct Definition: Encodable {
            var name: String, type: String
            enum CodingKeys: String, CodingKey { case name = "AttributeName", type = "AttributeType" }
        }
        struct KeyElement: Encodable {
            var name: String, type: String
            enum CodingKeys: String, CodingKey { case name = "AttributeName", type = "KeyType" }
        }
        struct Input: Encodable {
            var tableName: String, definitions: [Definition], keySchema: [KeyElement], billingMode = "PAY_PER_REQUEST"
            enum CodingKeys: String, CodingKey {
                case tableName = "TableName", definitions = "AttributeDefinitions", keySchema = "KeySchema", billingMode = "BillingMode"
            }
        }
        do {
            _ = try await call(
                "CreateTable", Input(tableName: name, definitions: [.init(name: hashKey, type: "S")], keySchema: [.init(name: hashKey, type: "HASH")]))
            return true
        } catch let error as AWSError where error.code == .resourceInUse {
            return false
        }
    }

    /// The table, or nil when it does not exist.
    public func describeTable(_ name: String) async throws -> TableDescription? {
        struct Output: Decodable {
            var table: TableDescription
            enum CodingKeys: String, CodingKey { case table = "Table" }
        }
        do {
            return try decode(Output.self, try await call("DescribeTable", ["TableName": name]), "DescribeTable").table
        } catch let error as AWSError where error.code == .resourceNotFound {
            return nil
        }
    }

    /// Waits until the table is ACTIVE (polling every `interval`, at most `timeout`).
    public func waitUntilActive(_ name: String, timeout: Duration = .seconds(120), interval: Duration = .milliseconds(500)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let table = try await describeTable(name)
            if table?.tableStatus == "ACTIVE" { return }
            guard clock.now < deadline else {
                throw AWSError(
                    code: .waiterTimeout, message: "table \(name) is \(table?.tableStatus ?? "missing"), not ACTIVE, after \(timeout)", operation: "DescribeTable",
                    service: AWSService.dynamoDB.name)
            }
            try await Task.sleep(for: interval)
        }
    }

    /// Deletes a table (tests and clean-ups).
    public func deleteTable(_ name: String) async throws { _ = try await call("DeleteTable", ["TableName": name]) }

    // MARK: - Items

    /// The item with `key`, read strongly consistent unless told otherwise; nil when absent.
    public func getItem(_ table: String, key: DynamoDBItem, consistentRead: Bool = true) async throws -> DynamoDBItem? {
        struct Input: Encodable {
            var table: String, key: DynamoDBItem, consistentRead: Bool
            enum CodingKeys: String, CodingKey { case table = "TableName", key = "Key", consistentRead = "ConsistentRead" }
        }
        struct Output: Decodable {
            var item: DynamoDBItem?
            enum CodingKeys: String, CodingKey { case item = "Item" }
        }
        return try decode(Output.self, try await call("GetItem", Input(table: table, key: key, consistentRead: consistentRead)), "GetItem").item
    }

    /// Writes the whole item when `condition` holds (always, without one).
    public func putItem(_ table: String, item: DynamoDBItem, condition: Expression? = nil) async throws -> WriteOutcome {
        var input = WriteInput(table: table)
        input.item = item
        input.set(condition: condition, update: nil)
        return try await conditional("PutItem", input)
    }

    /// Applies `update` (an UpdateExpression) when `condition` holds; on success, the item after
    /// the update (ReturnValues ALL_NEW).
    public func updateItem(_ table: String, key: DynamoDBItem, update: Expression, condition: Expression? = nil) async throws -> WriteOutcome {
        var input = WriteInput(table: table)
        input.key = key
        input.returnValues = "ALL_NEW"
        input.set(condition: condition, update: update)
        return try await conditional("UpdateItem", input)
    }

    /// Deletes the item when `condition` holds.
    public func deleteItem(_ table: String, key: DynamoDBItem, condition: Expression? = nil) async throws -> WriteOutcome {
        var input = WriteInput(table: table)
        input.key = key
        input.set(condition: condition, update: nil)
        return try await conditional("DeleteItem", input)
    }

    /// Every item of the table, following `LastEvaluatedKey` page by page (`pageSize` items per call).
    public func scan(_ table: String, consistentRead: Bool = true, pageSize: Int? = nil) async throws -> [DynamoDBItem] {
        struct Input: Encodable {
            var table: String, consistentRead: Bool, limit: Int?, start: DynamoDBItem?
            enum CodingKeys: String, CodingKey { case table = "TableName", consistentRead = "ConsistentRead", limit = "Limit", start = "ExclusiveStartKey" }
        }
        var items: [DynamoDBItem] = []
        var start: DynamoDBItem?
        repeat {
            let page = try decode(
                Page.self, try await call("Scan", Input(table: table, consistentRead: consistentRead, limit: pageSize, start: start)), "Scan")
            items += page.items ?? []
            start = page.lastEvaluatedKey
        } while start != nil
        return items
    }

    /// Every item matching `keyCondition` (a KeyConditionExpression), page by page.
    public func query(_ table: String, keyCondition: Expression, index: String? = nil, consistentRead: Bool = false) async throws -> [DynamoDBItem] {
        struct Input: Encodable {
            var table: String, index: String?, condition: String, names: [String: String]?, values: DynamoDBItem?, consistentRead: Bool
            var start: DynamoDBItem?
            enum CodingKeys: String, CodingKey {
                case table = "TableName", index = "IndexName", condition = "KeyConditionExpression", names = "ExpressionAttributeNames"
                case values = "ExpressionAttributeValues", consistentRead = "ConsistentRead", start = "ExclusiveStartKey"
            }
        }
        var items: [DynamoDBItem] = []
        var start: DynamoDBItem?
        repeat {
            let input = Input(
                table: table, index: index, condition: keyCondition.text, names: keyCondition.names.isEmpty ? nil : keyCondition.names,
                values: keyCondition.values.isEmpty ? nil : keyCondition.values, consistentRead: consistentRead, start: start)
            let page = try decode(Page.self, try await call("Query", input), "Query")
            items += page.items ?? []
            start = page.lastEvaluatedKey
        } while start != nil
        return items
    }

    // MARK: - Wire

    struct Page: Decodable {
        var items: [DynamoDBItem]?
        var lastEvaluatedKey: DynamoDBItem?
        enum CodingKeys: String, CodingKey { case items = "Items", lastEvaluatedKey = "LastEvaluatedKey" }
    }

    /// The input of PutItem, UpdateItem and DeleteItem: empty placeholder maps are left out
    /// (DynamoDB refuses an empty ExpressionAttributeValues).
    struct WriteInput: Encodable {
        var table: String
        var item: DynamoDBItem?
        var key: DynamoDBItem?
        var update: String?
        var condition: String?
        var names: [String: String]?
        var values: DynamoDBItem?
        var returnValues: String?

        init(table: String) { self.table = table }

        mutating func set(condition: Expression?, update: Expression?) {
            self.condition = condition?.text
            self.update = update?.text
            let names = (condition?.names ?? [:]).merging(update?.names ?? [:]) { first, _ in first }
            let values = (condition?.values ?? [:]).merging(update?.values ?? [:]) { first, _ in first }
            self.names = names.isEmpty ? nil : names
            self.values = values.isEmpty ? nil : values
        }

        enum CodingKeys: String, CodingKey {
            case table = "TableName", item = "Item", key = "Key", update = "UpdateExpression", condition = "ConditionExpression"
            case names = "ExpressionAttributeNames", values = "ExpressionAttributeValues", returnValues = "ReturnValues"
        }
    }

    func conditional(_ operation: String, _ input: WriteInput) async throws -> WriteOutcome {
        struct Output: Decodable {
            var attributes: DynamoDBItem?
            enum CodingKeys: String, CodingKey { case attributes = "Attributes" }
        }
        do {
            return .written(try decode(Output.self, try await call(operation, input), operation).attributes)
        } catch let error as AWSError where error.code == "ConditionalCheckFailedException" {
            return .conditionFailed
        }
    }

    func call(_ operation: String, _ input: some Encodable) async throws -> AWSClient.Response {
        try await core.json(operation, body: Array(try JSONEncoder().encode(input)))
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: AWSClient.Response, _ operation: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: response.data)
        } catch {
            throw AWSError(
                code: .invalidResponse, message: "DynamoDB \(operation) answered what is not its JSON: \(error)", httpStatus: response.status,
                requestId: response.requestId, operation: operation, service: AWSService.dynamoDB.name)
        }
    }
}
