#!/usr/bin/env python3
"""The aws-kinesis-agg package (an independent implementation of the KPL aggregation format)
as a filter for the Swift tests (AggregationTests):

    agg_helper.py aggregate     stdin: [{"pk": ..., "ehk": ... or null, "data": base64}, ...]
                                stdout: {"pk": ..., "ehk": ..., "data": base64}
    agg_helper.py deaggregate   stdin: {"pk": ..., "data": base64}
                                stdout: [{"pk": ..., "ehk": ..., "data": base64, "sub": n, "aggregated": bool}, ...]
"""
import base64
import json
import sys

from aws_kinesis_agg.aggregator import RecordAggregator
from aws_kinesis_agg.deaggregator import iter_deaggregate_records


def aggregate(records):
    aggregator = RecordAggregator(max_size=1024 * 1024)
    for record in records:
        full = aggregator.add_user_record(record["pk"], base64.b64decode(record["data"]), record.get("ehk"))
        if full is not None:
            raise SystemExit("records do not fit in one aggregated record")
    pk, ehk, data = aggregator.clear_and_get().get_contents()
    return {"pk": pk, "ehk": ehk, "data": base64.b64encode(data).decode()}


def deaggregate(record):
    raw = {"SequenceNumber": "1", "PartitionKey": record["pk"], "ApproximateArrivalTimestamp": 0,
           "Data": base64.b64decode(record["data"])}
    out = []
    for user in iter_deaggregate_records([raw], data_format="Boto3"):
        kinesis = user["kinesis"]
        data = kinesis["data"]
        out.append({"pk": kinesis["partitionKey"], "ehk": kinesis.get("explicitHashKey"),
                    "data": data.decode() if isinstance(data, bytes) else base64.b64encode(data).decode(),
                    "sub": kinesis.get("subSequenceNumber", 0), "aggregated": bool(kinesis.get("aggregated", False))})
    return out


if __name__ == "__main__":
    command = sys.argv[1]
    payload = json.load(sys.stdin)
    json.dump(aggregate(payload) if command == "aggregate" else deaggregate(payload), sys.stdout)
