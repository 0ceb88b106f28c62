import Foundation

/// Kinesis Data Streams list prices (USD) for the regions in the table: the us-east-1 list prices of
/// https://aws.amazon.com/kinesis/data-streams/pricing/ as the table's author knew them on the date
/// it carries (written on a machine without internet, so not re-read from the page that day).
/// Prices change: every estimate names the date and the page, and a region not in the table gets
/// no estimate rather than a guess.
package struct KinesisPrices: Sendable, Hashable {
    package var shardHour: Double
    /// Per million PUT payload units (25 KiB pieces of each record).
    package var putPayloadUnitsPerMillion: Double
    package var onDemandStreamHour: Double
    /// Per GB written (each record rounded up to 1 KiB) and read, on demand.
    package var onDemandDataInPerGB: Double
    package var onDemandDataOutPerGB: Double

    package static let dated = "2026-11-29"
    /// The US regions with the us-east-1 list prices (US West (Oregon)'s $0.014 per million PUT
    /// payload units is also quoted in public write-ups); other regions differ and are left out.
    static let usList = KinesisPrices(
        shardHour: 0.015, putPayloadUnitsPerMillion: 0.014, onDemandStreamHour: 0.04, onDemandDataInPerGB: 0.08, onDemandDataOutPerGB: 0.04)
    package static let table: [String: KinesisPrices] = ["us-east-1": usList, "us-east-2": usList, "us-west-2": usList]
}

/// What a run would cost on AWS, from its plan: shard-hours and PUT payload units for a
/// provisioned stream, stream-hours and data for an on-demand one. An estimate: retention beyond
/// 24 hours, enhanced fan-out and a stream kept after the run are not in it (the text says so).
package struct CostEstimate: Sendable {
    package var region: String
    package var total: Double?
    package var lines: [String]

    package static func estimate(
        region: String, shards: Int?, seconds: Double, events: Int, meanRecordBytes: Double, aggregated: Bool, consumers: Bool
    ) -> CostEstimate {
        guard let price = KinesisPrices.table[region] else {
            return CostEstimate(
                region: region, total: nil,
                lines: [
                    "cost: no price for \(region) in the table (dated \(KinesisPrices.dated): \(KinesisPrices.table.keys.sorted().joined(separator: ", "))): see https://aws.amazon.com/kinesis/data-streams/pricing/"
                ])
        }
        // Billing is by the hour: a run of minutes pays for its stream's whole hour.
        let hours = max(1, (seconds / 3600).rounded(.up))
        let bytes = Double(events) * meanRecordBytes
        var lines: [String] = []
        let total: Double
        if let shards {
            let shardCost = Double(shards) * hours * price.shardHour
            // Aggregates of up to 50 KiB pack many events; plain records pay at least one unit each.
            let units = aggregated ? (bytes / 25_600).rounded(.up) : Double(events) * max(1, (meanRecordBytes / 25_600).rounded(.up))
            let unitCost = units / 1_000_000 * price.putPayloadUnitsPerMillion
            total = shardCost + unitCost
            lines.append(String(format: "cost: about $%.4f on AWS (%@ prices dated %@): %d shard%@ x %.0f h x $%.3f = $%.4f, %.0f PUT payload units x $%.3f per million = $%.4f",
                total, region, KinesisPrices.dated, shards, shards == 1 ? "" : "s", hours, price.shardHour, shardCost, units, price.putPayloadUnitsPerMillion, unitCost))
            lines.append(String(format: "      a stream kept after the run costs $%.3f an hour (--delete-after deletes one the run created)", Double(shards) * price.shardHour))
        } else {
            let perRecordKiB = aggregated ? bytes / 1024 : Double(events) * max(1, (meanRecordBytes / 1024).rounded(.up))
            let gigabytes = perRecordKiB * 1024 / 1_000_000_000
            let streamCost = hours * price.onDemandStreamHour
            let inCost = gigabytes * price.onDemandDataInPerGB
            let outCost = consumers ? gigabytes * price.onDemandDataOutPerGB : 0
            total = streamCost + inCost + outCost
            lines.append(String(format: "cost: about $%.4f on AWS (%@ on-demand prices dated %@): %.0f stream-hour%@ x $%.2f = $%.4f, %.4f GB in x $%.2f = $%.4f%@",
                total, region, KinesisPrices.dated, hours, hours == 1 ? "" : "s", price.onDemandStreamHour, streamCost, gigabytes, price.onDemandDataInPerGB, inCost,
                consumers ? String(format: ", %.4f GB out x $%.2f = $%.4f", gigabytes, price.onDemandDataOutPerGB, outCost) : ""))
            lines.append(String(format: "      a stream kept after the run costs $%.2f an hour (--delete-after deletes one the run created)", price.onDemandStreamHour))
        }
        lines.append("      not included: retention beyond 24 hours, enhanced fan-out, data transfer out of AWS; prices change: https://aws.amazon.com/kinesis/data-streams/pricing/")
        return CostEstimate(region: region, total: total, lines: lines)
    }
}
