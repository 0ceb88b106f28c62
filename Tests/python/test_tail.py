"""`kinesis-load tail` (the toolkit's StreamConsumer over HTTP) reads what others wrote, whole:
a resharded moto_server stream written with boto3, and aggregated records that
`kinesis-load put --aggregate` wrote into `kinesis-load serve`."""
import json
import os
import subprocess
import time
import uuid

from conftest import Server, binary
from test_put_moto import moto, put


def tail(endpoint, stream, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    return subprocess.run([binary(), "tail", stream, "--endpoint", endpoint, "--from", "trim-horizon", "--json",
                           "--stop-when-caught-up", *args], capture_output=True, text=True, env=env, timeout=120)


def test_tail_reads_a_resharded_moto_stream_completely():
    endpoint, kinesis = moto()
    stream = "tail-" + uuid.uuid4().hex[:8]
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream)
    sent = []

    def write(start, count):
        records = [{"Data": json.dumps({"n": i}).encode(), "PartitionKey": f"k{i % 50}"} for i in range(start, start + count)]
        for chunk in range(0, len(records), 500):
            out = kinesis.put_records(StreamName=stream, Records=records[chunk:chunk + 500])
            assert out["FailedRecordCount"] == 0
        sent.extend(range(start, start + count))

    write(0, 300)
    shards = kinesis.list_shards(StreamName=stream)["Shards"]
    first = shards[0]
    low, high = int(first["HashKeyRange"]["StartingHashKey"]), int(first["HashKeyRange"]["EndingHashKey"])
    kinesis.split_shard(StreamName=stream, ShardToSplit=first["ShardId"], NewStartingHashKey=str((low + high) // 2))
    kinesis.get_waiter("stream_exists").wait(StreamName=stream)
    write(300, 300)
    result = tail(endpoint, stream)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    read = [json.loads(line["data"])["n"] for line in lines]
    assert sorted(read) == sent  # every record, once
    # The closed parent was read to its end (moto never ends a closed shard's iterators: tail
    # ends it at its EndingSequenceNumber), or --stop-when-caught-up would never have returned.
    parent = first["ShardId"]
    assert any(line["shard"] == parent for line in lines)
    # In order per key: a key's records come in the order they were written.
    last = {}
    for n in read:
        key = n % 50
        assert last.get(key, -1) < n
        last[key] = n
    # moto does not speak CBOR (it answers an HTML 500): --cbor warns once and reads in JSON.
    started = time.monotonic()
    cbor = tail(endpoint, stream, "--cbor")
    assert cbor.returncode == 0, cbor.stderr
    assert sorted(json.loads(line["data"])["n"] for line in map(json.loads, cbor.stdout.splitlines())) == sent
    assert time.monotonic() - started < 30  # not retried as a server error
    assert cbor.stderr.count("does not answer GetRecords in CBOR; reading in JSON from now on") == 1, cbor.stderr


def test_tail_reads_aggregated_records_from_serve_completely():
    server = Server("--stream", "agg:4")
    try:
        lines = [json.dumps({"user": f"u{i % 97}", "seq": i}) for i in range(2000)]
        result = put(server.url, "agg", lines, "--aggregate", "--key-field", "user")
        assert result.returncode == 0, result.stderr
        result = tail(server.url, "agg")
        assert result.returncode == 0, result.stderr
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert sorted(r["data"] for r in records) == sorted(lines)
        assert any(r["subSequenceNumber"] > 0 for r in records)  # deaggregated
        raw = tail(server.url, "agg", "--no-deaggregate")
        assert 0 < len(raw.stdout.splitlines()) < 200
        # In CBOR, as the Java SDK reads: the same records, in the same order in each shard
        # (shards interleave as they come; a stable sort by shard keeps each one's order).
        cbor = tail(server.url, "agg", "--cbor")
        assert cbor.returncode == 0, cbor.stderr
        by_shard = lambda rows: sorted(rows, key=lambda r: r["shard"])
        assert by_shard(json.loads(line) for line in cbor.stdout.splitlines()) == by_shard(records)
    finally:
        server.stop()


def test_tail_errors_name_what_was_wrong():
    server = Server("--stream", "s:1")
    try:
        env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
        for args, expected in [(["missing"], 'stream "missing" does not exist'),
                               (["s", "--from", "yesterday"], "--from 'yesterday' is not a position"),
                               (["s", "--shard", "shardId-000000000009"], "--shard shardId-000000000009: no such shard"),
                               (["s", "--from", "123"], "--from 123: a sequence number belongs to one shard")]:
            result = subprocess.run([binary(), "tail", *args, "--endpoint", server.url], capture_output=True, text=True,
                                    env=env, timeout=60)
            assert result.returncode != 0, args
            assert expected in result.stderr, (args, result.stderr)
    finally:
        server.stop()


def test_ctrl_c_stops_tail_cleanly():
    server = Server("--stream", "live:1")
    try:
        env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
        process = subprocess.Popen([binary(), "tail", "live", "--endpoint", server.url, "--json", "--from", "trim-horizon"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=env)
        put(server.url, "live", ['{"hello":1}'])
        # The record shows up while tail follows the stream (bounded by the read timeout).
        line = process.stdout.readline()
        assert json.loads(json.loads(line)["data"]) == {"hello": 1}
        process.send_signal(__import__("signal").SIGINT)
        assert process.wait(timeout=30) == 130
        assert "1 record" in process.stderr.read()
    finally:
        server.stop()


def test_tail_fan_out_reads_a_resharded_aggregated_stream_by_subscribe_to_shard():
    server = Server("--stream", "efo:2")
    try:
        kinesis = server.client()
        lines = [json.dumps({"user": f"u{i % 31}", "seq": i}) for i in range(600)]
        assert put(server.url, "efo", lines[:300], "--aggregate", "--key-field", "user").returncode == 0
        first = kinesis.list_shards(StreamName="efo")["Shards"][0]
        kinesis.split_shard(StreamName="efo", ShardToSplit=first["ShardId"], NewStartingHashKey=str(2**126))
        assert put(server.url, "efo", lines[300:], "--aggregate", "--key-field", "user").returncode == 0
        result = tail(server.url, "efo", "--fan-out", "tail-efo")
        assert result.returncode == 0, result.stderr
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert sorted(r["data"] for r in records) == sorted(lines)
        assert {r["shard"] for r in records} >= {first["ShardId"], "shardId-000000000002", "shardId-000000000003"}
        assert "registered consumer tail-efo for this run; it is deregistered at exit" in result.stderr
        arn = kinesis.describe_stream_summary(StreamName="efo")["StreamDescriptionSummary"]["StreamARN"]
        assert kinesis.list_stream_consumers(StreamARN=arn)["Consumers"] == []
        # A consumer that was there before is used and kept.
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="standing")
        result = tail(server.url, "efo", "--fan-out", "standing", "--shard", "shardId-000000000001")
        assert result.returncode == 0, result.stderr
        assert "registered consumer" not in result.stderr
        assert [c["ConsumerName"] for c in kinesis.list_stream_consumers(StreamARN=arn)["Consumers"]] == ["standing"]
        assert len(result.stdout.splitlines()) > 0
    finally:
        server.stop()
