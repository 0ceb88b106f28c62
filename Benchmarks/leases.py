"""Lease failover figures, measured with `kinesis-load tail --lease-table` workers (real
processes) on moto_server's Kinesis and DynamoDB, with the KCL 2.x defaults beside them.

  1. a new worker joins one that holds all 8 leases: time until it holds its share (4);
  2. a worker stops gracefully (SIGTERM): time until the other holds all 8;
  3. a worker is killed (SIGKILL): time until the other holds all 8.

Every worker runs with the defaults (failover 10 s, a taking cycle every half failover time), as
the KCL 2.x defaults are failover 10 s and a taker every 20.05 s. Run: bash Benchmarks/leases.sh
"""
import os
import signal
import subprocess
import sys
import time
import uuid

import boto3

endpoint = os.environ["MOTO_ENDPOINT"]
binary = os.environ["KINESIS_LOAD"]
env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
args = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
kinesis, dynamo = boto3.client("kinesis", **args), boto3.client("dynamodb", **args)
stream, table = "bench-" + uuid.uuid4().hex[:8], "bench-app-" + uuid.uuid4().hex[:8]
kinesis.create_stream(StreamName=stream, ShardCount=8)
kinesis.get_waiter("stream_exists").wait(StreamName=stream)


def worker(name):
    return subprocess.Popen([binary, "tail", stream, "--endpoint", endpoint, "--lease-table", table, "--create", "--from", "latest",
                             "--worker-id", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def owners():
    try:
        items = dynamo.scan(TableName=table, ConsistentRead=True)["Items"]
    except dynamo.exceptions.ResourceNotFoundException:
        return []
    return [item.get("leaseOwner", {}).get("S") for item in items]


def until(condition, timeout=300):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.05)
    sys.exit(f"not reached within {timeout} s: {owners()}")


a = worker("worker-a")
until(lambda: owners().count("worker-a") == 8)
b = worker("worker-b")
share = until(lambda: owners().count("worker-b") == 4)
b.send_signal(signal.SIGTERM)
graceful = until(lambda: owners().count("worker-a") == 8)
b.wait(timeout=60)
b = worker("worker-b")
until(lambda: owners().count("worker-b") == 4)
b.send_signal(signal.SIGKILL)
killed = until(lambda: owners().count("worker-a") == 8)
a.send_signal(signal.SIGTERM)
a.wait(timeout=60)

print("8 shards, 2 workers, failover 10 s, a taking cycle every 5 s (kinesis-load tail --lease-table on moto_server)")
print(f"{'':36} {'measured':>10}   KCL 2.x defaults (failover 10 s, taker every 20.05 s, one steal per cycle)")
print(f"{'new worker holds its share (4 of 8)':36} {share:9.1f}s   4 taking cycles, one steal each: about 60-80 s")
print(f"{'graceful stop: all 8 taken over':36} {graceful:9.1f}s   no release: failover + up to a taker cycle, 10-30 s (KCL #845: 27-40 s)")
print(f"{'kill -9: all 8 taken over':36} {killed:9.1f}s   failover + up to a taker cycle: 10-30 s")
