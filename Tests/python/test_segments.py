"""A run across workers as the Kubernetes manifest runs it: the command each pod runs is read
from deploy/kubernetes/job.yaml, run as N local processes against one `serve` with a shared
--start-at, merged, and compared with one whole run of the same scenario."""
import datetime
import json
import os
import pathlib
import subprocess

import yaml

from conftest import Server, binary

ROOT = pathlib.Path(__file__).resolve().parents[2]


def manifest_job():
    for doc in yaml.safe_load_all((ROOT / "deploy" / "kubernetes" / "job.yaml").read_text()):
        if doc and doc.get("kind") == "Job" and doc["spec"].get("completionMode") == "Indexed":
            return doc
    raise AssertionError("no Indexed Job in deploy/kubernetes/job.yaml")


def pod_command(job, index, values):
    """The pod's args with Kubernetes' $(VAR) references filled in as the kubelet fills them."""
    container = job["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container.get("env", [])}
    env.update(values)
    env["JOB_COMPLETION_INDEX"] = str(index)
    args = []
    for arg in container["args"]:
        for name, value in env.items():
            arg = arg.replace(f"$({name})", value)
        args.append(arg)
    return args


def summary(reports):
    found = sorted(pathlib.Path(reports).glob("*/summary.json"))
    assert found, f"no summary in {reports}"
    return json.loads(found[-1].read_text())


CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIDSEGMENTS", "AWS_SECRET_ACCESS_KEY": "segments-secret", "AWS_REGION": "us-east-1"}


def scenario_file(tmp_path, name, **sections):
    """Scenarios/NAME with some of its sections replaced, written to tmp_path; returns its path."""
    scenario = json.loads((ROOT / "Scenarios" / name).read_text())
    scenario.update(sections)
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario))
    return path


def run_workers(job, path, server, tmp_path, env):
    """Each pod's command from the manifest, run as a local process against `server` with a shared
    --start-at; every worker must exit 0. Returns their outputs."""
    n = job["spec"]["completions"]
    start = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    workers = []
    for index in range(n):
        args = pod_command(job, index, {"START_AT": start, "KINESIS_ENDPOINT": server.url})
        assert args[:2] == ["run", "/scenario/scenario.json"] and f"{index}/{n}" in args
        args[1] = str(path)
        args = [a.replace("/results", str(tmp_path)) for a in args]
        workers.append(subprocess.Popen([binary(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 0, output
    return outputs


def test_the_manifests_segments_merged_equal_the_whole_run(tmp_path):
    job = manifest_job()
    n = job["spec"]["completions"]
    assert job["spec"]["parallelism"] == n, "every segment runs at once"
    path = scenario_file(tmp_path, "quickstart.json", stream={"name": "segments", "shards": 4},
                         load={"executor": "constant-arrival-rate", "rate": 800, "duration": "3s"},
                         publisher={"mode": "putRecords", "maxBufferedTime": "50ms"}, thresholds={"errors.count": "== 0"})
    server = Server("--stream", "segments:4")
    env = dict(os.environ, **CREDENTIALS)
    try:
        outputs = run_workers(job, path, server, tmp_path, env)
        assert all(f"(segment {i}/{n})" in out for i, out in enumerate(outputs))
        whole = subprocess.run(
            [binary(), "run", str(path), "--endpoint", server.url, "--db", str(tmp_path / "whole.sqlite"),
             "--reports", str(tmp_path / "whole"), "--quiet"], env=env, capture_output=True, text=True, timeout=120)
        assert whole.returncode == 0, whole.stdout + whole.stderr
    finally:
        server.stop()
    merge = subprocess.run(
        [binary(), "merge", *[str(tmp_path / f"segment-{i}.sqlite") for i in range(n)], "--db", str(tmp_path / "merged.sqlite"),
         "--reports", str(tmp_path / "merged")], capture_output=True, text=True, timeout=120)
    assert merge.returncode == 0, merge.stdout + merge.stderr
    assert f"merged from {n} segments" in merge.stdout
    m, w = summary(tmp_path / "merged"), summary(tmp_path / "whole")
    assert m["totals"] == w["totals"] and w["totals"]["succeeded"] == 2400
    assert [(t["type"], t["started"], t["bytes"]) for t in m["types"]] == [(t["type"], t["started"], t["bytes"]) for t in w["types"]]
    assert [(s["shardId"], s["records"]) for s in m["shards"]] == [(s["shardId"], s["records"]) for s in w["shards"]]
    assert m["latencyMs"]["count"] == 2400
    assert [p["segment"] for p in m["run"]["mergedFrom"]] == [f"{i}/{n}" for i in range(n)]
    listed = json.loads(subprocess.run([binary(), "runs", "--db", str(tmp_path / "merged.sqlite"), "--json"],
                                       capture_output=True, text=True, check=True).stdout)
    assert [(r["mergedFrom"], r["events"], r["status"]) for r in listed] == [(n, 2400, "passed")]
    same = subprocess.run([binary(), "compare", "latest", "latest", "--db", str(tmp_path / "merged.sqlite"), "--json"],
                          capture_output=True, text=True)
    assert same.returncode == 0 and json.loads(same.stdout)["worse"] is False, same.stdout + same.stderr


def test_segments_read_their_share_of_the_shards_and_merge_verifies_them_together(tmp_path):
    """With a consume section each worker reads the shards whose number modulo n is its index;
    none can judge its own events, and the merge matches every worker's reads against every
    worker's acknowledgements."""
    job = manifest_job()
    n = job["spec"]["completions"]
    path = scenario_file(tmp_path, "end-to-end.json", stream={"name": "segments-read", "shards": 4},
                         load={"executor": "constant-arrival-rate", "rate": 600, "duration": "3s"},
                         consume={"consumers": 1, "from": "trim-horizon", "verify": True, "catchUpTimeout": "30s"},
                         # The read-back's verdict only: four processes on two cores make latency figures noise.
                         thresholds={"lost.count": "== 0", "duplicated.rate": "== 0", "outOfOrder.count": "== 0"})
    server = Server("--stream", "segments-read:4")
    env = dict(os.environ, **CREDENTIALS)
    try:
        outputs = run_workers(job, path, server, tmp_path, env)
    finally:
        server.stop()
    assert all("read back: kept for merge" in out and "(1 read to their tip)" in out for out in outputs), outputs
    merge = subprocess.run(
        [binary(), "merge", *[str(tmp_path / f"segment-{i}.sqlite") for i in range(n)], "--db", str(tmp_path / "merged.sqlite"),
         "--reports", str(tmp_path / "merged")], capture_output=True, text=True, timeout=120)
    assert merge.returncode == 0, merge.stdout + merge.stderr
    m = summary(tmp_path / "merged")
    v = m["verification"]
    assert (v["acknowledged"], v["read"], v["lost"], v["notVerified"]) == (1800, 1800, 0, 0), v
    assert v["duplicated"] == 0 and v["outOfOrder"] == 0 and v["unexpected"] == 0 and v["caughtUp"], v
    assert m["endToEndMs"]["count"] == 1800
    assert {t["metric"]: t["passed"] for t in m["thresholds"]}["lost.count"] is True
    report = (tmp_path / "merged").glob("*/summary.md")
    assert "Acknowledged = read + lost + not verified: 1800 = 1800 + 0 + 0" in next(report).read_text().replace(",", "")


def test_merge_refuses_a_missing_segment_and_names_it(tmp_path):
    scenario = {"name": "refuse", "seed": 1, "stream": {"name": "r", "shards": 1},
                "load": {"executor": "fixed-events", "events": 20}, "publisher": {"mode": "putRecords"},
                "events": [{"type": "E", "partitionKey": {"strategy": "random"}, "template": {"n": "{{seq}}"}}]}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    run = subprocess.run([binary(), "run", str(path), "--segment", "0/3", "--db", str(tmp_path / "a.sqlite"),
                          "--reports", str(tmp_path / "r"), "--quiet"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    merge = subprocess.run([binary(), "merge", str(tmp_path / "a.sqlite"), "--db", str(tmp_path / "m.sqlite"),
                            "--reports", str(tmp_path / "m")], capture_output=True, text=True, timeout=60)
    assert merge.returncode == 2
    assert "segments 1/3, 2/3 missing" in merge.stderr
    bad = subprocess.run([binary(), "run", str(path), "--segment", "3/3"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 64 and "--segment" in bad.stderr and "0-based" in bad.stderr, bad.stderr


def test_the_ssh_recipe_runs_merges_and_reports(tmp_path):
    """deploy/ssh/run.sh with ssh and scp standing in for the real ones (each 'host' a folder here)."""
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "fake-ssh").write_text('#!/bin/sh\nshift\nexec sh -c "$*"\n')
    (shims / "fake-scp").write_text('#!/bin/sh\nexec cp "${1#*:}" "${2#*:}"\n')
    for shim in shims.iterdir():
        shim.chmod(0o755)
    scenario = {"name": "ssh", "seed": 3, "stream": {"name": "ssh", "shards": 2},
                "load": {"executor": "fixed-events", "events": 300, "rate": 600}, "publisher": {"mode": "putRecords"},
                "events": [{"type": "E", "partitionKey": {"strategy": "random"}, "template": {"n": "{{seq}}"}}],
                "thresholds": {"errors.count": "== 0"}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scenario))
    env = dict(os.environ, KINESIS_LOAD=binary(), RUN_ARGS="", START_IN="2", RESULTS=str(tmp_path / "results"),
               REMOTE_DIR=str(tmp_path / "remote"), SSH=str(shims / "fake-ssh"), SCP=str(shims / "fake-scp"))
    done = subprocess.run([str(ROOT / "deploy" / "ssh" / "run.sh"), str(path), "host-a", "host-b", "host-c"],
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "300 of 300 events delivered" in done.stdout and "merged from 3 segments" in done.stdout, done.stdout
    assert sorted(p.name for p in (tmp_path / "results").glob("segment-*.sqlite")) == [f"segment-{i}.sqlite" for i in range(3)]
