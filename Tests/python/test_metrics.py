"""`run --metrics-port` and `serve --metrics-port`: the figures Prometheus scrapes while a run goes,
parsed with prometheus_client's parser (not ours), equal what the run stores in summary.json, add up
across the segments of a run, and count what the endpoint answered."""
import datetime
import json
import os
import re
import pathlib
import signal
import socket
import subprocess
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from conftest import Server, binary

ROOT = pathlib.Path(__file__).resolve().parents[2]
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIDMETRICS", "AWS_SECRET_ACCESS_KEY": "metrics-secret", "AWS_REGION": "us-east-1"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    """Every sample served at /metrics, as {(name, frozenset(labels)): value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def total(samples, name, **labels):
    """The sum of `name` over the series whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def series(samples, name):
    return [(dict(ls), v) for (n, ls), v in samples.items() if n == name]


def wait_for_scrape(port, process, until, timeout=90):
    """Scrapes until `until(samples)` holds; the process must still be running meanwhile."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = scrape(port)
            if until(last):
                return last
        except OSError:
            pass
        assert process.poll() is None, f"kinesis-load exited {process.returncode} before the scrape: {process.stdout.read()}"
        time.sleep(0.1)
    raise AssertionError(f"no scrape satisfied the condition within {timeout} s; last: {last}")


def scenario_file(tmp_path, name, **sections):
    scenario = json.loads((ROOT / "Scenarios" / name).read_text())
    scenario.update(sections)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(scenario))
    return path


def summary(reports):
    found = sorted(pathlib.Path(reports).glob("*/summary.json"))
    assert found, f"no summary in {reports}"
    return json.loads(found[-1].read_text())


def dashboard_metrics(prefix):
    """The metric names deploy/grafana/kinesis-load.json queries that start with `prefix`."""
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "kinesis-load.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs += [v["query"]["query"] for v in dashboard["templating"]["list"] if isinstance(v.get("query"), dict)]
    return {name for e in exprs for name in re.findall(prefix + r"[a-z_]+", e)}


def finished(samples):
    return total(samples, "kinesis_load_run_finished") == 1


def test_a_run_is_scraped_while_it_runs_and_its_last_scrape_equals_summary_json(tmp_path):
    path = scenario_file(tmp_path, "end-to-end.json", load={"executor": "constant-arrival-rate", "rate": 400, "duration": "4s"},
                         consume={"consumers": 2, "from": "trim-horizon", "verify": True, "catchUpTimeout": "60s"})
    port = free_port()
    run = subprocess.Popen(
        [binary(), "run", str(path), "--db", str(tmp_path / "m.sqlite"), "--reports", str(tmp_path / "reports"),
         "--metrics-port", str(port), "--linger", "120s", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        during = wait_for_scrape(port, run, lambda s: total(s, "kinesis_load_events_started_total") > 0)
        assert not finished(during), "the run was marked finished while it ran"
        end = wait_for_scrape(port, run, finished)
        # Labelled for one Prometheus watching many workers: scenario, run id, segment.
        labels, _ = series(end, "kinesis_load_run_finished")[0]
        assert labels == {"scenario": "end-to-end", "run_id": "1", "segment": "-"}
        assert total(during, "kinesis_load_events_started_total") < total(end, "kinesis_load_events_started_total") == 1600
        s = summary(tmp_path / "reports")
        for t in s["types"]:
            kind = {"type": t["type"]}
            assert total(end, "kinesis_load_events_started_total", **kind) == t["started"]
            assert total(end, "kinesis_load_events_delivered_total", **kind) == t["succeeded"]
            assert total(end, "kinesis_load_events_failed_total", **kind) == t["failed"]
            assert total(end, "kinesis_load_events_dropped_total", **kind) == t["dropped"]
            # A histogram, in seconds: its count is every finished event, its buckets cumulative.
            assert total(end, "kinesis_load_event_latency_seconds_count", **kind) == t["succeeded"] + t["failed"]
            assert total(end, "kinesis_load_event_latency_seconds_bucket", le="+Inf", **kind) == t["succeeded"] + t["failed"]
        for shard in s["shards"]:
            one = {"shard": shard["shardId"]}
            assert total(end, "kinesis_load_shard_records_total", **one) == shard["records"]
            assert total(end, "kinesis_load_shard_bytes_total", **one) == shard["bytes"]
            assert total(end, "kinesis_load_shard_throttled_total", **one) == shard["throttled"]
            assert total(end, "kinesis_load_consumer_lag_seconds", **one) >= 0
        v = s["verification"]
        for outcome, key in [("acknowledged", "acknowledged"), ("read", "read"), ("lost", "lost"), ("duplicated", "duplicated"),
                             ("out_of_order", "outOfOrder"), ("unexpected", "unexpected")]:
            assert total(end, "kinesis_load_readback_events", outcome=outcome) == v[key], outcome
        assert v["read"] == 1600
        assert total(end, "kinesis_load_end_to_end_seconds_count") > 0
        assert total(end, "kinesis_load_consumed_records_total") >= 1600
        # The run's Producer and consumers report their own figures (the KPL's and KCL's) beside the run's.
        assert total(end, "kinesis_producer_user_records_put_total", stream="end-to-end") == s["totals"]["succeeded"]
        assert total(end, "kinesis_consumer_records_total", stream="end-to-end") >= 1600
        # What the Grafana dashboard queries is what a run serves.
        names = {n for (n, _) in end}
        assert dashboard_metrics("kinesis_load_") and dashboard_metrics("kinesis_load_") <= names, dashboard_metrics("kinesis_load_") - names
        # A signal ends the lingering at once; the run's own verdict is the exit code.
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=20) == 0, run.stdout.read()
    finally:
        if run.poll() is None:
            run.kill()


def test_two_segments_scrapes_summed_equal_the_merged_run(tmp_path):
    path = scenario_file(tmp_path, "quickstart.json", stream={"name": "metrics-segments", "shards": 2},
                         load={"executor": "constant-arrival-rate", "rate": 450, "duration": "4s"})
    server = Server("--stream", "metrics-segments:2")
    env = {**os.environ, **CREDENTIALS}
    start = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ports = [free_port(), free_port()]
    workers = []
    try:
        for index, port in enumerate(ports):
            workers.append(subprocess.Popen(
                [binary(), "run", str(path), "--endpoint", server.url, "--segment", f"{index}/2", "--start-at", start,
                 "--db", str(tmp_path / f"segment-{index}.sqlite"), "--reports", str(tmp_path / f"reports-{index}"),
                 "--metrics-port", str(port), "--linger", "120s", "--quiet"],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        scrapes = [wait_for_scrape(port, worker, finished) for port, worker in zip(ports, workers)]
        assert [dict(series(s, "kinesis_load_run_finished")[0][0])["segment"] for s in scrapes] == ["0/2", "1/2"]
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=20) == 0, worker.stdout.read()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        server.stop()
    merge = subprocess.run(
        [binary(), "merge", str(tmp_path / "segment-0.sqlite"), str(tmp_path / "segment-1.sqlite"), "--db", str(tmp_path / "merged.sqlite"),
         "--reports", str(tmp_path / "merged")], capture_output=True, text=True, timeout=120)
    assert merge.returncode == 0, merge.stdout + merge.stderr
    m = summary(tmp_path / "merged")

    def summed(name, **labels):
        return sum(total(s, name, **labels) for s in scrapes)

    assert m["totals"]["started"] == summed("kinesis_load_events_started_total") == 1800
    assert m["totals"]["succeeded"] == summed("kinesis_load_events_delivered_total")
    assert m["totals"]["failed"] == summed("kinesis_load_events_failed_total")
    assert m["totals"]["dropped"] == summed("kinesis_load_events_dropped_total")
    for t in m["types"]:
        assert summed("kinesis_load_event_latency_seconds_count", type=t["type"]) == t["succeeded"] + t["failed"]
    for shard in m["shards"]:
        assert summed("kinesis_load_shard_records_total", shard=shard["shardId"]) == shard["records"]
        assert summed("kinesis_load_shard_throttled_total", shard=shard["shardId"]) == shard["throttled"]


def test_serve_counts_requests_by_operation_and_answer_and_throttles_per_shard(tmp_path):
    port = free_port()
    server = Server("--stream", "counted:1", "--enforce-limits", "--metrics-port", str(port))
    try:
        client = server.client()
        failed = 0
        for batch in range(4):
            answer = client.put_records(
                StreamName="counted", Records=[{"Data": b"x" * 100, "PartitionKey": f"k{batch}-{i}"} for i in range(500)])
            failed += answer["FailedRecordCount"]
        try:
            client.describe_stream(StreamName="missing")
        except client.exceptions.ResourceNotFoundException:
            pass
        samples = scrape(port)
        assert failed > 0, "four batches of 500 within a second must pass the shard's 1,000 records/s"
        assert total(samples, "kinesis_local_throttled_total", stream="counted", shard="shardId-000000000000", direction="write") == failed
        assert total(samples, "kinesis_local_requests_total", operation="PutRecords", answer="ok") == 4
        assert total(samples, "kinesis_local_requests_total", operation="DescribeStream", answer="ResourceNotFoundException") == 1
        assert total(samples, "kinesis_local_request_duration_seconds_count", operation="PutRecords") == 4
        assert total(samples, "kinesis_local_request_bytes_total", operation="PutRecords") > 4 * 500 * 100
        assert total(samples, "kinesis_local_connections_total") >= 1
        names = {n for (n, _) in samples}
        assert dashboard_metrics("kinesis_local_") and dashboard_metrics("kinesis_local_") <= names, dashboard_metrics("kinesis_local_") - names
    finally:
        server.stop()
