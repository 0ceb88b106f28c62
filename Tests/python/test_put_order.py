"""The per-key order check a user would run: NDJSON records with increasing ids over ~5,000 `user`
keys through `kinesis-load put --key-field user --aggregate` into `kinesis-load serve` (with and
without its per-shard limits, so with and without throttling), read back shard by shard with
boto3 and aws-kinesis-agg. No record may be lost or arrive after a later record of its key.

Run alone with more records: ORDER_RECORDS=200000 python3 -m pytest -q Tests/python/test_put_order.py -s
"""
import json
import os
import subprocess

import pytest
from aws_kinesis_agg.deaggregator import iter_deaggregate_records

from conftest import Server, binary
from test_reshard_kcl import payload, read_shard

RECORDS = int(os.environ.get("ORDER_RECORDS", "40000"))
KEYS = 5003


def put(server, stream, lines, *flags):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    # Small aggregates, so several requests per shard are under way at once: what reorders records.
    return subprocess.run([binary(), "put", stream, "--key-field", "user", "--aggregate", "--max-buffered-ms", "2", "--endpoint", server.url, *flags],
                          input="\n".join(lines) + "\n", capture_output=True, text=True, env=env, timeout=900)


def read_in_order(kinesis, stream):
    out = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        for record in read_shard(kinesis, stream, shard["ShardId"]):
            out += [payload(u["kinesis"]["data"]) for u in iter_deaggregate_records([record], data_format="Boto3")]
    return out


def out_of_order(lines):
    last, seen, late = {}, set(), 0
    for line in lines:
        if line in seen:
            continue
        seen.add(line)
        record = json.loads(line)
        if last.get(record["user"], -1) > record["i"]:
            late += 1
        else:
            last[record["user"]] = record["i"]
    return late, seen


@pytest.mark.parametrize("limits", [False, True], ids=["no-limits", "enforce-limits"])
def test_put_keeps_per_key_order(limits):
    server = Server("--stream", "ord:2", *(["--enforce-limits"] if limits else []))
    try:
        lines = [json.dumps({"user": f"u-{i % KEYS}", "i": i}) for i in range(RECORDS)]
        result = put(server, "ord", lines)
        assert result.returncode == 0, result.stderr
        assert f"sent: {RECORDS}, failed: 0" in result.stdout
        late, seen = out_of_order(read_in_order(server.client(), "ord"))
        print(f"\n{'enforce-limits' if limits else 'no limits'}: {result.stdout.strip()}; "
              f"read {len(seen)} of {RECORDS}, {late} out of order per key")
        assert seen == set(lines)
        assert late == 0
    finally:
        server.stop()
