#!/usr/bin/env bash
# Reading speed: deaggregated user records per second through the StreamConsumer, from the
# in-process engine and over HTTP from `kinesis-load serve`, and a boto3 GetRecords loop
# (deaggregating with aws_kinesis_agg) reading the same kind of stream from the same endpoint,
# in one run. The Swift consumer reads in JSON (the client's default) and in CBOR (--cbor, as the
# Java SDK reads; boto3 has no CBOR). 100-byte records, KPL-aggregated, 4 shards, limits off.
# Release build; not part of CI.
#
#   bash Benchmarks/consumer.sh [in-process records] [HTTP records]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_python_deps
inprocess=${1:-2000000}
http=${2:-2000000}
release_binary
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
out=$(mktemp -d)

echo "==> in process"
"$bin" bench consumer --records "$inprocess" --json | tee "$out/inproc.json"

port=$(free_port)
"$bin" serve --port "$port" --retain-per-shard none > "$out/serve.log" 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true; rm -rf "$out"' EXIT
for _ in $(seq 1 100); do grep -q listening "$out/serve.log" && break; sleep 0.1; done
url="http://127.0.0.1:$port"
echo "==> over HTTP from kinesis-load serve ($url)"
"$bin" bench consumer --endpoint "$url" --stream swift-read --records "$http" --json | tee "$out/http.json"
"$bin" bench consumer --endpoint "$url" --stream swift-read-cbor --records "$http" --cbor --json | tee "$out/cbor.json"
# The same records for boto3: written by the same Producer into a second stream, then read by boto3.
"$bin" bench producer --endpoint "$url" --stream boto3-read --records "$http" --json > /dev/null
# And plain (not aggregated) records, where boto3 decodes one JSON entry per record.
plain=$((http / 2))
"$bin" bench consumer --endpoint "$url" --stream swift-plain --records "$plain" --no-aggregate --json | tee "$out/plain.json"
"$bin" bench producer --endpoint "$url" --stream boto3-plain --records "$plain" --no-aggregate --json > /dev/null

URL="$url" RECORDS="$http" OUT="$out" python3 - <<'PY'
import json, os, time
import boto3
from aws_kinesis_agg.deaggregator import iter_deaggregate_records
kinesis = boto3.client("kinesis", endpoint_url=os.environ["URL"], region_name="us-east-1")
start = time.perf_counter()
count = 0
for shard in kinesis.list_shards(StreamName="boto3-read")["Shards"]:
    iterator = kinesis.get_shard_iterator(StreamName="boto3-read", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while iterator:
        page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
        count += sum(1 for _ in iter_deaggregate_records(page["Records"], data_format="Boto3"))
        if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
            break
        iterator = page.get("NextShardIterator")
seconds = time.perf_counter() - start
boto3_rate = count / seconds
swift = json.load(open(os.path.join(os.environ["OUT"], "http.json")))
inproc = json.load(open(os.path.join(os.environ["OUT"], "inproc.json")))
print(f"boto3 GetRecords loop + aws_kinesis_agg <- serve: {count} user records in {seconds:.2f} s = {boto3_rate:,.0f} records/s")
print(f"in process: {inproc['recordsPerSecond']:,} user records/s (goal 1,000,000)")
print(f"over HTTP: Swift {swift['recordsPerSecond']:,} vs boto3 {boto3_rate:,.0f} records/s: {swift['recordsPerSecond'] / boto3_rate:.1f}x (goal 10x)")
cbor = json.load(open(os.path.join(os.environ["OUT"], "cbor.json")))
print(f"over HTTP in CBOR: Swift {cbor['recordsPerSecond']:,} vs boto3 {boto3_rate:,.0f} records/s: {cbor['recordsPerSecond'] / boto3_rate:.1f}x (goal 10x)")

start = time.perf_counter()
count = 0
for shard in kinesis.list_shards(StreamName="boto3-plain")["Shards"]:
    iterator = kinesis.get_shard_iterator(StreamName="boto3-plain", ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while iterator:
        page = kinesis.get_records(ShardIterator=iterator, Limit=10000)
        count += len(page["Records"])
        if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
            break
        iterator = page.get("NextShardIterator")
plain_rate = count / (time.perf_counter() - start)
plain = json.load(open(os.path.join(os.environ["OUT"], "plain.json")))
print(f"plain records over HTTP: Swift {plain['recordsPerSecond']:,} vs a boto3 GetRecords loop {plain_rate:,.0f} records/s: {plain['recordsPerSecond'] / plain_rate:.1f}x")
PY
