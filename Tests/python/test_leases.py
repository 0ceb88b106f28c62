"""`tail --lease-table` workers sharing a stream through a DynamoDB lease table on moto_server:
the items they write are read back with boto3 and carry the KCL's attribute names and types; a
worker killed with SIGKILL loses its shards to the other within the failover time and a taking
cycle; `leases` prints the table."""
import json
import os
import signal
import subprocess
import time
import uuid

import boto3

from conftest import binary

ENV = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
# The attributes and DynamoDB types of a lease as the KCL 2.x writes it (DynamoDBLeaseSerializer).
KCL_TYPES = {"leaseKey": "S", "leaseOwner": "S", "leaseCounter": "N", "checkpoint": "S", "checkpointSubSequenceNumber": "N",
             "pendingCheckpoint": "S", "pendingCheckpointSubSequenceNumber": "N", "pendingCheckpointState": "B",
             "ownerSwitchesSinceCheckpoint": "N", "parentShardId": "SS", "childShardIds": "SS", "startingHashKey": "S",
             "endingHashKey": "S"}


def clients():
    endpoint = os.environ.get("MOTO_ENDPOINT")
    if not endpoint:
        raise RuntimeError("MOTO_ENDPOINT is not set: run scripts/test.sh, which starts moto_server")
    args = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    return endpoint, boto3.client("kinesis", **args), boto3.client("dynamodb", **args)


def put(kinesis, stream, prefix, count):
    for start in range(0, count, 100):
        entries = [{"Data": f"{prefix}-{i}".encode(), "PartitionKey": uuid.uuid4().hex} for i in range(start, min(count, start + 100))]
        assert kinesis.put_records(StreamName=stream, Records=entries)["FailedRecordCount"] == 0


def items(dynamo, table):
    try:
        return dynamo.scan(TableName=table, ConsistentRead=True)["Items"]
    except dynamo.exceptions.ResourceNotFoundException:
        return []


def wait(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def printed(path):
    with open(path) as f:
        return {json.loads(line)["data"] for line in f if line.strip()}


def test_tail_workers_share_a_stream_through_a_kcl_lease_table(tmp_path):
    endpoint, kinesis, dynamo = clients()
    stream, table = "tails-" + uuid.uuid4().hex[:8], "app-" + uuid.uuid4().hex[:8]
    kinesis.create_stream(StreamName=stream, ShardCount=4)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream)
    put(kinesis, stream, "a", 200)
    workers = {}
    for name in ["tail-a", "tail-b"]:
        out = open(tmp_path / f"{name}.jsonl", "w")
        err = open(tmp_path / f"{name}.log", "w")
        workers[name] = subprocess.Popen(
            [binary(), "tail", stream, "--endpoint", endpoint, "--lease-table", table, "--create", "--from", "trim-horizon",
             "--json", "--failover", "2s", "--worker-id", name], stdout=out, stderr=err, env=ENV)
    try:
        def owners():
            return sorted(item.get("leaseOwner", {}).get("S", "(free)") for item in items(dynamo, table))
        assert wait(lambda: owners() == ["tail-a", "tail-a", "tail-b", "tail-b"]), owners()
        assert wait(lambda: printed(tmp_path / "tail-a.jsonl") | printed(tmp_path / "tail-b.jsonl") >= {f"a-{i}" for i in range(200)})

        # Every item has the KCL's names and types, nothing else (once each shard's last batch is checkpointed).
        assert wait(lambda: all(item["checkpoint"]["S"].isdigit() for item in items(dynamo, table)))
        found = items(dynamo, table)
        assert len(found) == 4
        for item in found:
            for name, value in item.items():
                assert name in KCL_TYPES, f"{name} is not a KCL lease attribute"
                (kind,) = value.keys()
                assert kind == KCL_TYPES[name], f"{name} is {kind}, the KCL writes {KCL_TYPES[name]}"
            assert {"leaseKey", "leaseOwner", "leaseCounter", "checkpoint", "checkpointSubSequenceNumber",
                    "ownerSwitchesSinceCheckpoint"} <= item.keys()
            assert item["checkpoint"]["S"].isdigit(), item["checkpoint"]

        # kill -9: the other worker takes its shards once their counters stand still for 2 s.
        killed = time.monotonic()
        workers["tail-b"].send_signal(signal.SIGKILL)
        workers["tail-b"].wait(timeout=10)
        assert wait(lambda: owners() == ["tail-a"] * 4, timeout=30), owners()
        gap = time.monotonic() - killed
        assert gap < 2 + 1 + 3, f"{gap:.1f} s: the failover time, one taking cycle (half of it), and slack"
        put(kinesis, stream, "b", 200)
        assert wait(lambda: printed(tmp_path / "tail-a.jsonl") >= {f"b-{i}" for i in range(200)}), "nothing unprocessed after the failover"

        shown = subprocess.run([binary(), "leases", table, "--endpoint", endpoint, "--stream", stream], capture_output=True, text=True, env=ENV,
                               timeout=60)
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        assert lines[0].split() == ["shard", "owner", "checkpoint", "counter", "switches", "parents", "behind"]
        assert sum("tail-a" in line for line in lines) == 4
        assert "4 leases, 1 worker, 0 free, 0 finished" in shown.stdout
        as_json = json.loads(subprocess.run([binary(), "leases", table, "--endpoint", endpoint, "--json"], capture_output=True, text=True,
                                            env=ENV, timeout=60, check=True).stdout)
        assert {row["owner"] for row in as_json} == {"tail-a"} and all(row["ownerSwitchesSinceCheckpoint"] >= 0 for row in as_json)

        # SIGTERM: it checkpoints what it printed and releases its leases.
        workers["tail-a"].send_signal(signal.SIGTERM)
        assert workers["tail-a"].wait(timeout=30) == 130
        assert all("leaseOwner" not in item for item in items(dynamo, table)), items(dynamo, table)
    finally:
        for worker in workers.values():
            if worker.poll() is None:
                worker.kill()


def test_tail_refuses_a_missing_lease_table_and_names_it():
    endpoint, kinesis, _ = clients()
    stream = "tails-" + uuid.uuid4().hex[:8]
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream)
    done = subprocess.run([binary(), "tail", stream, "--endpoint", endpoint, "--lease-table", "no-such-app", "--stop-when-caught-up"],
                          capture_output=True, text=True, env=ENV, timeout=60)
    assert done.returncode != 0
    assert "lease table no-such-app does not exist" in done.stderr and "--create" in done.stderr, done.stderr
    bad = subprocess.run([binary(), "tail", stream, "--create"], capture_output=True, text=True, env=ENV, timeout=60)
    assert bad.returncode == 64 and "--create goes with --lease-table" in bad.stderr, bad.stderr
