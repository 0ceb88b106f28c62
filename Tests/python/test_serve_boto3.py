"""boto3 and the AWS CLI, real clients no one here wrote, against `kinesis-load serve`."""
import json
import os
import subprocess
import time

import pytest
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, SECRET_KEY, Server


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_binary_round_trip(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="bin", ShardCount=1)
    payloads = [bytes(range(256)), b"", b"\x00", "é☃😀".encode()]
    sequence_numbers = [kinesis.put_record(StreamName="bin", Data=p, PartitionKey="k")["SequenceNumber"] for p in payloads]
    assert all(len(s) == 56 for s in sequence_numbers)
    assert sequence_numbers == sorted(sequence_numbers, key=int)
    iterator = kinesis.get_shard_iterator(StreamName="bin", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert [r["Data"] for r in records] == payloads
    assert [r["SequenceNumber"] for r in records] == sequence_numbers


def test_shard_routing(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="route", ShardCount=3)
    shards = [kinesis.put_record(StreamName="route", Data=b"x", PartitionKey=k)["ShardId"] for k in "abef"]
    assert shards == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000001"]
    out = kinesis.put_records(StreamName="route", Records=[{"Data": b"y", "PartitionKey": k} for k in "abef"])
    assert out["FailedRecordCount"] == 0
    assert [r["ShardId"] for r in out["Records"]] == shards


def test_every_iterator_type(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="it", ShardCount=1)
    seqs = []
    for i in range(4):
        seqs.append(kinesis.put_record(StreamName="it", Data=str(i).encode(), PartitionKey="k")["SequenceNumber"])

    def read(kind, **extra):
        it = kinesis.get_shard_iterator(StreamName="it", ShardId="shardId-000000000000", ShardIteratorType=kind, **extra)["ShardIterator"]
        return [r["Data"].decode() for r in kinesis.get_records(ShardIterator=it)["Records"]]

    assert read("TRIM_HORIZON") == ["0", "1", "2", "3"]
    assert read("AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[1]) == ["1", "2", "3"]
    assert read("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[1]) == ["2", "3"]
    assert read("LATEST") == []
    assert read("AT_TIMESTAMP", Timestamp=time.time() - 60) == ["0", "1", "2", "3"]
    # A timestamp in the future is refused, as AWS refuses it.
    try:
        read("AT_TIMESTAMP", Timestamp=time.time() + 60)
        raise AssertionError("a future AT_TIMESTAMP was accepted")
    except kinesis.exceptions.InvalidArgumentException as error:
        assert "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis." in str(error)


def test_resharding(server):
    kinesis = server.client()
    kinesis.create_stream(StreamName="re", ShardCount=2)
    kinesis.put_record(StreamName="re", Data=b"parent", PartitionKey="k")
    shards = kinesis.list_shards(StreamName="re")["Shards"]
    first = shards[0]
    start, end = int(first["HashKeyRange"]["StartingHashKey"]), int(first["HashKeyRange"]["EndingHashKey"])
    kinesis.split_shard(StreamName="re", ShardToSplit=first["ShardId"], NewStartingHashKey=str((start + end) // 2))
    shards = kinesis.list_shards(StreamName="re")["Shards"]
    children = [s for s in shards if s.get("ParentShardId") == first["ShardId"]]
    assert len(children) == 2
    assert "EndingSequenceNumber" in shards[0]["SequenceNumberRange"]
    kinesis.merge_shards(StreamName="re", ShardToMerge=children[0]["ShardId"], AdjacentShardToMerge=children[1]["ShardId"])
    latest = kinesis.list_shards(StreamName="re", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert len(latest) == 2
    out = kinesis.update_shard_count(StreamName="re", TargetShardCount=4, ScalingType="UNIFORM_SCALING")
    assert out["CurrentShardCount"] == 2 and out["TargetShardCount"] == 4
    assert kinesis.describe_stream_summary(StreamName="re")["StreamDescriptionSummary"]["OpenShardCount"] == 4

    # Drain the closed shard that holds the record: no next iterator, children named.
    for shard in shards[:2]:
        it = kinesis.get_shard_iterator(StreamName="re", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        page = kinesis.get_records(ShardIterator=it)
        assert "NextShardIterator" not in page
        assert page["ChildShards"], page


def test_errors_for_bad_input(server):
    kinesis = server.client(validate=False)
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName="fixture", Data=b"x", PartitionKey="")
    assert error_code(excinfo) == "ValidationException"
    assert "Member must have length greater than or equal to 1" in str(excinfo.value)
    with pytest.raises(ClientError) as excinfo:
        kinesis.describe_stream_summary(StreamName="missing")
    assert error_code(excinfo) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        kinesis.create_stream(StreamName="fixture", ShardCount=1)
    assert error_code(excinfo) == "ResourceInUseException"
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_records(ShardIterator="not-an-iterator")
    assert error_code(excinfo) == "InvalidArgumentException"
    with pytest.raises(ClientError) as excinfo:
        kinesis.increase_stream_retention_period(StreamName="fixture", RetentionPeriodHours=9000)
    assert error_code(excinfo) == "InvalidArgumentException"
    with pytest.raises(ClientError) as excinfo:
        server.client(secret="wrong").list_streams()
    assert error_code(excinfo) == "InvalidSignatureException"


def aws(server, *args, check=True):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION="us-east-1",
               AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
    return subprocess.run(["aws", "--endpoint-url", server.url, "--output", "json", "kinesis", *args],
                          capture_output=True, text=True, env=env, check=check)


def test_aws_cli(server):
    aws(server, "create-stream", "--stream-name", "cli", "--shard-count", "2")
    described = json.loads(aws(server, "describe-stream", "--stream-name", "cli").stdout)["StreamDescription"]
    assert [s["ShardId"] for s in described["Shards"]] == ["shardId-000000000000", "shardId-000000000001"]
    put = json.loads(aws(server, "put-record", "--stream-name", "cli", "--partition-key", "user-123", "--data", "hello").stdout)
    iterator = json.loads(aws(server, "get-shard-iterator", "--stream-name", "cli", "--shard-id", put["ShardId"],
                              "--shard-iterator-type", "TRIM_HORIZON").stdout)["ShardIterator"]
    # AWS CLI v1 base64-encodes the text given to a blob parameter and prints blobs in base64.
    records = json.loads(aws(server, "get-records", "--shard-iterator", iterator).stdout)["Records"]
    assert records[0]["Data"] == "aGVsbG8=" and records[0]["SequenceNumber"] == put["SequenceNumber"]
    missing = aws(server, "describe-stream-summary", "--stream-name", "nope", check=False)
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr
    names = json.loads(aws(server, "list-streams").stdout)["StreamNames"]
    assert "cli" in names and "fixture" in names


def test_faults_and_limits_flags():
    server = Server("--stream", "f:1", "--enforce-limits", "--faults", "fail=PutRecord:1:throttled,seed=3")
    try:
        kinesis = server.client(validate=False)
        with pytest.raises(ClientError) as excinfo:
            kinesis.put_record(StreamName="f", Data=b"x", PartitionKey="k")
        assert error_code(excinfo) == "ProvisionedThroughputExceededException"
        kinesis.put_record(StreamName="f", Data=b"x", PartitionKey="k")
        # --enforce-limits: 1,000 records/s per shard, so a burst of 1,500 is partly throttled.
        failed = 0
        for _ in range(3):
            out = kinesis.put_records(StreamName="f", Records=[{"Data": b"r", "PartitionKey": f"k{i}"} for i in range(500)])
            failed += out["FailedRecordCount"]
        assert failed > 0
        assert all(r["ErrorCode"] == "ProvisionedThroughputExceededException" for r in out["Records"] if "ErrorCode" in r)
    finally:
        server.stop()


def test_bad_flags_are_named():
    import subprocess as sp
    from conftest import binary
    for args, expected in [(["--faults", "throttle=2"], "throttle='2' is not a probability"),
                           (["--stream", "bad name:2"], "--stream name='bad name'"),
                           (["--stream", "s:zero"], "expected NAME:SHARDS"),
                           (["--auth", "nosecret"], "--auth expects ACCESS_KEY:SECRET")]:
        result = sp.run([binary(), "serve", "--port", "0", *args], capture_output=True, text=True, timeout=30)
        assert result.returncode != 0
        assert expected in result.stderr, (args, result.stderr)
    for args, expected in [(["--retain-per-shard", "10KiB"], "--retain-per-shard '10KiB' is not a size of at least 1MiB"),
                           (["--idle-timeout", "forever"], "--idle-timeout 'forever' is not a duration"),
                           (["--delays", "starting=1s"], "--delays 'starting=1s' is not creating=, updating= or deleting="),
                           (["--delays", "creating=soon"], "--delays creating='soon' is not a duration from 0 to 1h"),
                           (["--delays", "creating=1s,creating=2s"], "--delays names creating twice")]:
        result = sp.run([binary(), "serve", "--port", "0", *args], capture_output=True, text=True, timeout=30)
        assert result.returncode != 0
        assert expected in result.stderr, (args, result.stderr)


def test_delays_keep_streams_creating_as_aws_does():
    """serve --delays: a new stream is CREATING (and refuses puts) until the delay has passed."""
    server = Server("--delays", "creating=1500ms,deleting=0")
    try:
        kinesis = server.client()
        kinesis.create_stream(StreamName="slow", ShardCount=1)
        assert kinesis.describe_stream_summary(StreamName="slow")["StreamDescriptionSummary"]["StreamStatus"] == "CREATING"
        with pytest.raises(kinesis.exceptions.ResourceNotFoundException):
            kinesis.put_record(StreamName="slow", PartitionKey="k", Data=b"x")
        kinesis.get_waiter("stream_exists").wait(StreamName="slow", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        kinesis.put_record(StreamName="slow", PartitionKey="k", Data=b"x")
    finally:
        server.stop()


def _connect(url):
    import socket
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    return sock


def test_slow_and_idle_connections_are_closed():
    """A client that trickles its request head, or sits idle, loses the connection; others are served."""
    server = Server("--stream", "t:1", "--header-timeout", "1s", "--idle-timeout", "2s")
    try:
        slow = [_connect(server.url) for _ in range(50)]
        for sock in slow:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")  # never finished
        # Meanwhile a normal client is served.
        assert server.client().list_streams()["StreamNames"] == ["t"]
        started = time.monotonic()
        for sock in slow:
            assert sock.recv(100) == b""  # closed by the server (recv would time out after 30 s otherwise)
        assert time.monotonic() - started < 20
        idle = _connect(server.url)
        body = b"{}"
        idle.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n"
                     b"Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, "
                     b"SignedHeaders=host, Signature=0\r\nX-Amz-Date: 20260101T000000Z\r\n"
                     b"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\n\r\n" + body)
        assert idle.recv(1000).startswith(b"HTTP/1.1 200")
        assert idle.recv(100) == b""  # closed once idle for 2 s
    finally:
        server.stop()


def test_ipv6_url_in_brackets():
    server = Server("--host", "::1", "--stream", "v6:1")
    try:
        assert server.url.startswith("http://[::1]:"), server.url
        assert server.client().list_streams()["StreamNames"] == ["v6"]
    finally:
        server.stop()


def test_records_beyond_the_byte_budget_are_trimmed_and_said():
    server = Server("--stream", "b:1", "--retain-per-shard", "1MiB")
    try:
        kinesis = server.client()
        for batch in range(6):
            kinesis.put_records(StreamName="b", Records=[{"Data": bytes([batch]) * 1000, "PartitionKey": f"k{i}"} for i in range(500)])
        iterator = kinesis.get_shard_iterator(StreamName="b", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        kept = 0
        first = None
        while iterator:
            out = kinesis.get_records(ShardIterator=iterator, Limit=10000)
            if first is None and out["Records"]:
                first = out["Records"][0]["Data"][0]
            kept += len(out["Records"])
            if out.get("MillisBehindLatest", 0) == 0 and not out["Records"]:
                break
            iterator = out.get("NextShardIterator")
        assert 0 < kept < 3000 and first > 0, (kept, first)  # the oldest went first
    finally:
        server.stop()
    log = server.process.stdout.read()
    assert "b/shardId-000000000000 is over --retain-per-shard 1048576 bytes" in log, log
