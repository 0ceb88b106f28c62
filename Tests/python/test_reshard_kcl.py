"""`kinesis-load put --aggregate` into `kinesis-load serve` while a shard is split under it, read
back shard by shard and deaggregated by aws-kinesis-agg, then judged by the KCL's rule
(`AggregatorUtil.deaggregate`): an aggregate with one sub-record outside the shard's hash range
is dropped whole. Every record must survive.

Run alone with more records: RESHARD_RECORDS=200000 python3 -m pytest -q Tests/python/test_reshard_kcl.py -s
"""
import base64
import hashlib
import json
import os
import subprocess
import time

from aws_kinesis_agg.deaggregator import iter_deaggregate_records

from conftest import Server, binary

RECORDS = int(os.environ.get("RESHARD_RECORDS", "40000"))
KEYS = 5003


def hash_key(user):
    explicit = user.get("explicitHashKey")
    if explicit:
        return int(explicit)
    return int.from_bytes(hashlib.md5(user["partitionKey"].encode()).digest(), "big")


def get_records(kinesis, iterator, limit):
    """GetRecords, waiting out the read limit (5 calls/s per shard with --enforce-limits); bounded."""
    for _ in range(300):
        try:
            return kinesis.get_records(ShardIterator=iterator, Limit=limit)
        except kinesis.exceptions.ProvisionedThroughputExceededException:
            time.sleep(0.2)
    raise AssertionError("GetRecords stayed throttled for a minute")


def read_shard(kinesis, stream, shard_id):
    """Every Kinesis record of a shard, from TRIM_HORIZON to its end (closed) or its tip (open)."""
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = []
    while iterator:
        page = get_records(kinesis, iterator, 10000)
        records += page["Records"]
        if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
            break
        iterator = page.get("NextShardIterator")
    return records


def kept_by_kcl(kinesis, stream):
    """What a KCL application receives: (sequence of user records' data) per the KCL's rule."""
    kept, dropped_aggregates = [], 0
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        low, high = int(shard["HashKeyRange"]["StartingHashKey"]), int(shard["HashKeyRange"]["EndingHashKey"])
        for record in read_shard(kinesis, stream, shard["ShardId"]):
            users = [u["kinesis"] for u in iter_deaggregate_records([record], data_format="Boto3")]
            if not any(u.get("aggregated") for u in users):
                kept += [u["data"] for u in users]
                continue
            from_this = []
            for user in users:
                if not low <= hash_key(user) <= high:
                    from_this = None
                    break
                from_this.append(user["data"])
            if from_this is None:
                dropped_aggregates += 1
            else:
                kept += from_this
    return [payload(d) for d in kept], dropped_aggregates


def payload(data):
    """aws-kinesis-agg hands back bytes or base64 text depending on the record's kind: the line sent."""
    text = data.decode() if isinstance(data, bytes) else data
    return text if text.startswith("{") else base64.b64decode(text).decode()


def wait_for_records(kinesis, stream, shard_id, limit_seconds=60):
    """Returns once the shard holds a record (the producer has its map by then); bounded."""
    deadline = time.monotonic() + limit_seconds
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while time.monotonic() < deadline:
        page = get_records(kinesis, iterator, 1)
        if page["Records"]:
            return
        iterator = page["NextShardIterator"]
        time.sleep(0.02)
    raise AssertionError(f"no record reached {shard_id} within {limit_seconds} s")


def test_a_split_during_put_loses_no_record_for_a_kcl_reader():
    server = Server("--stream", "mis:2", "--enforce-limits")
    try:
        kinesis = server.client()
        lines = [json.dumps({"user": f"u-{i % KEYS}", "i": i}) for i in range(RECORDS)]
        env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
        put = subprocess.Popen([binary(), "put", "mis", "--key-field", "user", "--aggregate", "--endpoint", server.url],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        first = RECORDS // 10
        put.stdin.write("\n".join(lines[:first]) + "\n")
        put.stdin.flush()
        wait_for_records(kinesis, "mis", "shardId-000000000000")
        kinesis.split_shard(StreamName="mis", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2 ** 127 // 2))
        out, err = put.communicate("\n".join(lines[first:]) + "\n", timeout=600)
        assert put.returncode == 0, err
        assert f"sent: {RECORDS}, failed: 0" in out
        kept, dropped = kept_by_kcl(kinesis, "mis")
        print(f"\n{out.strip()}\nKCL rule: kept {len(set(kept))} of {RECORDS} records; "
              f"{dropped} aggregates dropped whole; {len(kept) - len(set(kept))} duplicates")
        assert len(kept_set := set(kept)) == RECORDS, f"a KCL reader lost {RECORDS - len(kept_set)} of {RECORDS} records"
        assert kept_set == set(lines)
        assert len(kept) == RECORDS, "a KCL reader got some records twice"
    finally:
        server.stop()
