"""`kinesis-load put --aggregate` against moto_server (a Kinesis no one here wrote), read back
and deaggregated by aws-kinesis-agg (an aggregation implementation no one here wrote)."""
import json
import os
import subprocess
import uuid

import boto3
from aws_kinesis_agg.deaggregator import iter_deaggregate_records

from conftest import binary


def moto():
    endpoint = os.environ.get("MOTO_ENDPOINT")
    if not endpoint:
        raise RuntimeError("MOTO_ENDPOINT is not set: run scripts/test.sh, which starts moto_server")
    return endpoint, boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing")


def put(endpoint, stream, lines, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    return subprocess.run([binary(), "put", stream, "--endpoint", endpoint, *args], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, env=env, timeout=120)


def read_all(kinesis, stream):
    out = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
            out += page["Records"]
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return out


def test_put_aggregate_reads_back_whole_with_aws_kinesis_agg():
    endpoint, kinesis = moto()
    stream = "put-" + uuid.uuid4().hex[:8]
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    lines = [json.dumps({"user": {"id": f"user-{i % 37}"}, "seq": i, "pad": "x" * (i % 200)}) for i in range(3000)]
    result = put(endpoint, stream, lines, "--aggregate", "--key-field", "user.id")
    assert result.returncode == 0, result.stderr
    assert "sent: 3000, failed: 0" in result.stdout
    raw = read_all(kinesis, stream)
    assert len(raw) < 300  # aggregated: far fewer Kinesis records than lines
    users = list(iter_deaggregate_records(raw, data_format="Boto3"))
    payloads = [u["kinesis"]["data"] for u in users]
    # aws_kinesis_agg base64-encodes the records it takes out of an aggregate and passes a plain
    # record through as boto3 gave it (raw bytes): a lone record left to flush on its own is plain.
    def text(p):
        raw = p if isinstance(p, bytes) else p.encode()
        return raw.decode() if raw.startswith(b"{") else __import__("base64").b64decode(raw).decode()
    decoded = [text(p) for p in payloads]
    assert sorted(decoded) == sorted(lines)
    keys = {json.loads(d)["seq"]: u["kinesis"]["partitionKey"] for d, u in zip(decoded, users)}
    assert all(keys[i] == f"user-{i % 37}" for i in range(3000))


def test_put_reports_failures_and_exits_non_zero():
    endpoint, kinesis = moto()
    stream = "put-" + uuid.uuid4().hex[:8]
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    result = put(endpoint, stream, ['{"id": "a"}', "not json", '{"other": 1}', '{"id": "b"}'], "--key-field", "id")
    assert result.returncode != 0
    assert "sent: 2, failed: 2" in result.stdout
    assert "line 2:" in result.stderr and "line 3:" in result.stderr
    assert len(read_all(kinesis, stream)) == 2
