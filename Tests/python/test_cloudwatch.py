"""`--cloudwatch-metrics` against moto_server's CloudWatch: what `put`, `tail` and `run` publish is
read back with boto3 (`list_metrics`, `get_metric_statistics`) under the namespace, the KPL's and
the KCL's names and their dimensions; a CloudWatch that refuses every call loses only metrics;
Embedded Metric Format lines parse as CloudWatch Logs reads them."""
import datetime
import json
import os
import pathlib
import socket
import subprocess
import uuid

import boto3

from conftest import binary

ROOT = pathlib.Path(__file__).resolve().parents[2]
SECRET = "cloudwatch-test-secret-value"


def moto():
    endpoint = os.environ.get("MOTO_ENDPOINT")
    if not endpoint:
        raise RuntimeError("MOTO_ENDPOINT is not set: run scripts/test.sh, which starts moto_server")
    return endpoint


def env(cloudwatch):
    return dict(os.environ, AWS_ACCESS_KEY_ID="AKIDCLOUDWATCH", AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="us-east-1",
                AWS_ENDPOINT_URL_CLOUDWATCH=cloudwatch)


def clients(endpoint):
    args = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    return boto3.client("kinesis", **args), boto3.client("cloudwatch", **args)


def statistic(cloudwatch, namespace, name, dimensions, stat="Sum"):
    now = datetime.datetime.now(datetime.timezone.utc)
    points = cloudwatch.get_metric_statistics(
        Namespace=namespace, MetricName=name, Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=now - datetime.timedelta(minutes=10), EndTime=now + datetime.timedelta(minutes=10), Period=3600,
        Statistics=[stat])["Datapoints"]
    return sum(p[stat] for p in points) if points else None


def listed(cloudwatch, namespace):
    return {(m["MetricName"], frozenset((d["Name"], d["Value"]) for d in m["Dimensions"]))
            for m in cloudwatch.list_metrics(Namespace=namespace)["Metrics"]}


def make_stream(kinesis, shards=2):
    stream = f"cw-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=shards)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2})
    return stream


def lines(n):
    return "".join(json.dumps({"n": i, "user": f"u{i % 7}"}) + "\n" for i in range(n))


def test_put_and_tail_publish_the_kpl_and_kcl_metrics_that_boto3_reads_back():
    endpoint = moto()
    kinesis, cloudwatch = clients(endpoint)
    stream = make_stream(kinesis)
    namespace = f"KinesisToolkit/Test/{uuid.uuid4().hex[:8]}"
    put = subprocess.run([binary(), "put", stream, "--endpoint", endpoint, "--key-field", "user", "--cloudwatch-metrics", namespace],
                         input=lines(300), capture_output=True, text=True, env=env(endpoint), timeout=120)
    assert put.returncode == 0, put.stderr
    assert "sent: 300" in put.stdout
    assert f"cloudwatch metrics ({namespace}):" in put.stderr and "dropped" not in put.stderr, put.stderr
    names = listed(cloudwatch, namespace)
    by_stream = frozenset({("StreamName", stream)})
    for name in ["UserRecordsReceived", "UserRecordsPut", "KinesisRecordsPut", "UserRecordsDataPut", "BufferingTime", "RequestTime"]:
        assert (name, by_stream) in names and (name, frozenset()) in names, name
    assert statistic(cloudwatch, namespace, "UserRecordsPut", {"StreamName": stream}) == 300
    # (moto's get_metric_statistics without dimensions adds up every dimension set, unlike
    # CloudWatch: the global point is checked through list_metrics above.)
    assert statistic(cloudwatch, namespace, "UserRecordsReceived", {"StreamName": stream}) == 300
    data_bytes = sum(len(json.dumps({"n": i, "user": f"u{i % 7}"})) + len(f"u{i % 7}") for i in range(300))
    assert statistic(cloudwatch, namespace, "UserRecordsDataPut", {"StreamName": stream}) == data_bytes
    kinesis_records = statistic(cloudwatch, namespace, "KinesisRecordsPut", {"StreamName": stream})
    assert statistic(cloudwatch, namespace, "BufferingTime", {"StreamName": stream}, "SampleCount") == kinesis_records

    tail = subprocess.run([binary(), "tail", stream, "--endpoint", endpoint, "--stop-when-caught-up", "--from", "trim-horizon", "--cloudwatch-metrics", namespace,
                           "--cloudwatch-interval", "1s"], capture_output=True, text=True, env=env(endpoint), timeout=120)
    assert tail.returncode == 0, tail.stderr
    assert "300 records" in tail.stderr
    names = listed(cloudwatch, namespace)
    process = ("Operation", "ProcessTask")
    assert ("RecordsProcessed", frozenset({process, ("StreamName", stream)})) in names
    assert statistic(cloudwatch, namespace, "RecordsProcessed", {"Operation": "ProcessTask", "StreamName": stream}) == 300
    shards = [s["ShardId"] for s in kinesis.list_shards(StreamName=stream)["Shards"]]
    for shard in shards:
        assert ("MillisBehindLatest", frozenset({process, ("StreamName", stream), ("ShardId", shard)})) in names, shard
    # No secret in any metric: names and dimension values are the toolkit's, the stream's and the shards'.
    everything = json.dumps(cloudwatch.list_metrics(Namespace=namespace)["Metrics"])
    assert SECRET not in everything and "AKIDCLOUDWATCH" not in everything


def test_run_publishes_the_producers_metrics_at_the_configured_granularity(tmp_path):
    endpoint = moto()
    _, cloudwatch = clients(endpoint)
    namespace = f"KinesisToolkit/Run/{uuid.uuid4().hex[:8]}"
    scenario = json.loads((ROOT / "Scenarios" / "quickstart.json").read_text())
    scenario["load"] = {"executor": "constant-arrival-rate", "rate": 400, "duration": "3s"}
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario))
    run = subprocess.run([binary(), "run", str(path), "--db", str(tmp_path / "m.sqlite"), "--reports", str(tmp_path / "r"), "--quiet",
                          "--cloudwatch-metrics", namespace, "--cloudwatch-granularity", "global", "--cloudwatch-level", "summary"],
                         capture_output=True, text=True, env=env(endpoint), timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads(next((tmp_path / "r").glob("*/summary.json")).read_text())
    assert statistic(cloudwatch, namespace, "UserRecordsPut", {}) == summary["totals"]["succeeded"] == 1200
    names = listed(cloudwatch, namespace)
    # Global granularity: no dimensions; summary level: no detailed metric such as UserRecordsReceived.
    assert all(dimensions == frozenset() for _, dimensions in names), names
    assert "UserRecordsReceived" not in {name for name, _ in names} and "UserRecordsPut" in {name for name, _ in names}


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_cloudwatch_that_refuses_every_call_loses_only_metrics():
    endpoint = moto()
    kinesis, _ = clients(endpoint)
    stream = make_stream(kinesis)
    nowhere = f"http://127.0.0.1:{closed_port()}"
    put = subprocess.run([binary(), "put", stream, "--endpoint", endpoint, "--cloudwatch-metrics", "KinesisToolkit/Nowhere"],
                         input=lines(200), capture_output=True, text=True, env=env(nowhere), timeout=120)
    assert put.returncode == 0, put.stderr
    assert "sent: 200, failed: 0" in put.stdout
    assert "0 values sent in 0 calls" in put.stderr and "dropped" in put.stderr, put.stderr
    assert SECRET not in put.stderr + put.stdout
    records = sum(len(kinesis.get_records(ShardIterator=kinesis.get_shard_iterator(
        StreamName=stream, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"])["Records"])
                  for s in kinesis.list_shards(StreamName=stream)["Shards"])
    assert records == 200


def test_embedded_metric_format_lines_on_standard_error():
    endpoint = moto()
    kinesis, _ = clients(endpoint)
    stream = make_stream(kinesis, shards=1)
    put = subprocess.run([binary(), "put", stream, "--endpoint", endpoint, "--cloudwatch-metrics", "KinesisToolkit/EMF", "--cloudwatch-emf"],
                         input=lines(50), capture_output=True, text=True, env=env("http://127.0.0.1:9"), timeout=120)
    assert put.returncode == 0, put.stderr
    documents = [json.loads(line) for line in put.stderr.splitlines() if line.startswith("{")]
    assert documents
    for document in documents:
        directive = document["_aws"]["CloudWatchMetrics"][0]
        assert directive["Namespace"] == "KinesisToolkit/EMF"
        for dimension in directive["Dimensions"][0]:
            assert dimension in document
        for metric in directive["Metrics"]:
            assert metric["Name"] in document
    put_counts = [d["UserRecordsPut"] for d in documents if "UserRecordsPut" in d and d.get("StreamName") == stream]
    assert put_counts == [50]
