"""The read-back's verdict agrees with an independent boto3 read of every shard, against
moto_server, which acknowledges some records under concurrent PutRecords that it never keeps
(it hands out one sequence number twice). The run must count those as lost and exit 99."""
import json
import os
import subprocess
import uuid

import boto3
import pytest

from conftest import binary


@pytest.fixture
def moto():
    endpoint = os.environ.get("MOTO_ENDPOINT")
    if not endpoint:
        raise RuntimeError("MOTO_ENDPOINT is not set: run scripts/test.sh, which starts moto_server")
    return endpoint


def read_every_shard(client, stream):
    """Every record in every shard, by a plain GetRecords loop from TRIM_HORIZON."""
    records = []
    shards = client.list_shards(StreamName=stream)["Shards"]
    for shard in shards:
        iterator = client.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = client.get_records(ShardIterator=iterator, Limit=10000)
            records += page["Records"]
            if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
                break
            iterator = page.get("NextShardIterator")
    return records


def test_verdict_agrees_with_an_independent_read(moto, tmp_path):
    stream = f"hostile-{uuid.uuid4().hex[:8]}"
    scenario = {
        "name": "moto-hostile", "stream": {"name": stream, "shards": 4},
        "load": {"executor": "constant-arrival-rate", "rate": 3000, "duration": "5s"},
        "publisher": {"mode": "putRecords", "batchSize": 100},
        "events": [{"type": "E", "partitionKey": {"strategy": "random", "keys": 500},
                    "template": {"id": "{{uuid}}", "n": "{{seq}}"}}],
        "consume": {"consumers": 2, "verify": True, "catchUpTimeout": "60s"},
    }
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(scenario))
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    run = subprocess.run(
        [binary(), "run", str(path), "--endpoint", moto, "--create", "--quiet",
         "--db", str(tmp_path / "m.sqlite"), "--reports", str(tmp_path / "reports")],
        capture_output=True, text=True, env=env, timeout=300)
    folder = next((tmp_path / "reports").iterdir())
    summary = json.loads((folder / "summary.json").read_text())
    v = summary["verification"]

    client = boto3.client("kinesis", endpoint_url=moto, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    kept = read_every_shard(client, stream)

    assert v["acknowledged"] == 15000
    assert v["acknowledged"] == v["read"] + v["lost"] + v["notVerified"], "the books add up"
    assert v["notVerified"] == 0 and v["caughtUp"]
    assert v["read"] == len(kept), "read back exactly what an independent read finds"
    assert v["lost"] == 15000 - len(kept), "every record moto acknowledged and did not keep is lost"
    assert summary["inconsistencies"] == []
    if v["lost"] > 0:
        assert run.returncode == 99, run.stdout + run.stderr
        assert f"{v['lost']} lost" in run.stdout
        lost = next(t for t in summary["thresholds"] if t["metric"] == "lost.count")
        assert not lost["passed"]
        # moto's loss is two acknowledgements at one sequence number: each is a finding, with both events.
        assert v["sharedPositions"] == v["lost"]
        shared = [e for e in v["examples"] if e["kind"] == "sharedPosition"]
        assert shared and all(e["otherPartitionKey"] and e["otherEventType"] == "E" for e in shared)
    else:
        assert run.returncode == 0, run.stdout + run.stderr
