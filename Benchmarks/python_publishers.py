#!/usr/bin/env python3
"""The Python peers of the Swift Producer, publishing the same records to the same endpoint:
boto3 put_records in batches of 500, and aiokpl (a KPL-equivalent producer) with aggregation.

    python_publishers.py boto3|aiokpl ENDPOINT STREAM RECORDS SIZE

Prints one JSON line: tool, records delivered, seconds, records per second.
"""
import asyncio
import json
import sys
import time


def keys():
    return [f"user-{i}" for i in range(1000)]


def run_boto3(endpoint, stream, records, size):
    import boto3
    from botocore.config import Config
    client = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                          aws_secret_access_key="bench", config=Config(retries={"mode": "standard"}))
    payload = b"a" * size
    names = keys()
    start = time.perf_counter()
    delivered = 0
    pending = [(payload, names[i % 1000]) for i in range(records)]
    while pending:
        batch, pending = pending[:500], pending[500:]
        out = client.put_records(StreamName=stream, Records=[{"Data": d, "PartitionKey": k} for d, k in batch])
        failed = [batch[i] for i, r in enumerate(out["Records"]) if "ErrorCode" in r]
        delivered += len(batch) - len(failed)
        pending = failed + pending
    return delivered, time.perf_counter() - start


async def run_aiokpl(endpoint, stream, records, size):
    from aiokpl import Config, Producer
    config = Config(region="us-east-1", endpoint_url=endpoint, aws_access_key_id="bench", aws_secret_access_key="bench",
                    verify_ssl=False, rate_limit_records_per_sec_per_shard=1e12, rate_limit_bytes_per_sec_per_shard=1e15)
    payload = b"a" * size
    names = keys()
    start = time.perf_counter()
    outcomes = []
    async with Producer(config) as producer:
        for i in range(records):
            outcomes.append(await producer.put_record(stream=stream, partition_key=names[i % 1000], data=payload))
        await producer.flush()
        delivered = 0
        for outcome in outcomes:
            result = await outcome.wait()
            if result.success:
                delivered += 1
    return delivered, time.perf_counter() - start


def ensure_stream(endpoint, stream):
    import boto3
    client = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                          aws_secret_access_key="bench")
    try:
        client.create_stream(StreamName=stream, ShardCount=4)
    except client.exceptions.ResourceInUseException:
        pass


if __name__ == "__main__":
    tool, endpoint, stream, records, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    ensure_stream(endpoint, stream)
    if tool == "boto3":
        delivered, seconds = run_boto3(endpoint, stream, records, size)
    else:
        delivered, seconds = asyncio.run(run_aiokpl(endpoint, stream, records, size))
    print(json.dumps({"tool": tool, "records": records, "delivered": delivered, "seconds": round(seconds, 3),
                      "recordsPerSecond": int(delivered / seconds) if seconds else 0}))
