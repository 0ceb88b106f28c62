"""`kinesis-load partitions` from a real stream's shard map and real keys: a stream resharded on
`kinesis-load serve` (uneven ranges), a key file with weights, a recommendation, and --max-share."""
import json
import os
import subprocess

from conftest import ACCESS_KEY, SECRET_KEY, binary

TWO_TO_128 = 2 ** 128


def partitions(server, *args):
    env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", "AWS_ACCESS_KEY_ID": ACCESS_KEY,
           "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
    return subprocess.run([binary(), "partitions", *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_real_shard_map_after_a_split(server, tmp_path):
    kinesis = server.client()
    kinesis.create_stream(StreamName="resharded", ShardCount=2)
    # shardId-000000000000 covers [0, 2^127); split it at 2^126: three shards, of 1/4, 1/4 and 1/2.
    kinesis.split_shard(StreamName="resharded", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2 ** 126))
    keys = tmp_path / "keys.txt"
    keys.write_text("".join(f"user-{i}\n" for i in range(4000)))
    result = partitions(server, "--keys", str(keys), "--stream", "resharded", "--endpoint", server.url, "--rate", "1000", "--json")
    assert result.returncode == 0, result.stderr
    analysis = json.loads(result.stdout)
    shares = {load["shardId"]: load["sharePercent"] for load in analysis["shardLoads"]}
    assert set(shares) == {"shardId-000000000001", "shardId-000000000002", "shardId-000000000003"}
    # MD5 spreads 4,000 distinct keys evenly over the hash space: the shares follow the ranges.
    assert 20 < shares["shardId-000000000002"] < 30
    assert 20 < shares["shardId-000000000003"] < 30
    assert 45 < shares["shardId-000000000001"] < 55


def test_weighted_keys_a_recommendation_and_max_share(server, tmp_path):
    keys = tmp_path / "keys.csv"
    keys.write_text("key,events\n" + "".join(f"k{i},{100 if i == 0 else 1}\n" for i in range(400)))
    result = partitions(server, "--keys", str(keys), "--keys-column", "1", "--weight-column", "2", "--shards", "4",
                        "--rate", "2000", "--headroom", "30%", "--max-share", "40%")
    assert result.returncode == 99, result.stdout + result.stderr
    assert "--max-share 40%: shardId-" in result.stderr
    assert "with 30% headroom (every shard under 76.9% of its limits" in result.stdout
    assert "recommend:" in result.stdout
    spread = partitions(server, "--keys", str(keys), "--keys-column", "1", "--shards", "4", "--rate", "2000", "--headroom", "30%")
    assert spread.returncode == 0, spread.stderr
    assert "recommend: " in spread.stdout and "shard" in spread.stdout


def test_a_bad_key_file_names_the_line(server, tmp_path):
    keys = tmp_path / "keys.csv"
    keys.write_text("a,1\nb,lots\n")
    result = partitions(server, "--keys", str(keys), "--keys-column", "1", "--weight-column", "2", "--shards", "2", "--rate", "10")
    assert result.returncode != 0
    assert "line 2: column 2 is not a weight" in result.stderr


def test_all_zero_weights_are_refused(server, tmp_path):
    keys = tmp_path / "keys.csv"
    keys.write_text("a,0\nb,0\nc,0\n")
    result = partitions(server, "--keys", str(keys), "--keys-column", "1", "--weight-column", "2", "--shards", "2",
                        "--rate", "10", "--max-share", "25%")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "every weight in column 2 is 0" in result.stderr
