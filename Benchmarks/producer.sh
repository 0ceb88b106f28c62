#!/usr/bin/env bash
# Records per second through the Swift Producer (release build): into the in-process engine,
# and over HTTP into `kinesis-load serve`, against boto3 put_records and aiokpl publishing the
# same records (100-byte payloads, 1,000 partition keys, 4 shards) to the same endpoint in
# the same run. Not part of CI.
#
#   bash Benchmarks/producer.sh [in-process records] [HTTP records] [python records]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
inprocess=${1:-2000000}
http=${2:-300000}
python_records=${3:-50000}

# The Python peers live in their own virtualenv: aiokpl pins a botocore that the AWS CLI refuses.
if [ ! -x .venv-bench/bin/python ]; then
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install --quiet aiokpl boto3
fi
release_binary
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1

echo "==> in process"
"$bin" bench producer --records "$inprocess" --json | tee /tmp/bench-inprocess.json
"$bin" bench producer --records "$inprocess" --no-aggregate --json | tee /tmp/bench-inprocess-plain.json

port=$(free_port)
"$bin" serve --port "$port" > /tmp/bench-serve.log 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q listening /tmp/bench-serve.log && break; sleep 0.1; done
url="http://127.0.0.1:$port"

echo "==> over HTTP to kinesis-load serve ($url)"
"$bin" bench producer --endpoint "$url" --stream swift --records "$http" --json | tee /tmp/bench-http-swift.json
"$bin" bench producer --endpoint "$url" --stream swift-callback --records "$http" --outcome callback --json | tee /tmp/bench-http-swift-callback.json
.venv-bench/bin/python Benchmarks/python_publishers.py boto3 "$url" boto3 "$python_records" 100 | tee /tmp/bench-http-boto3.json
.venv-bench/bin/python Benchmarks/python_publishers.py aiokpl "$url" aiokpl "$python_records" 100 | tee /tmp/bench-http-aiokpl.json

python3 - <<'PY'
import json
def load(name): return json.load(open(f"/tmp/bench-{name}.json"))
inproc, plain, swift, callback, boto, aiokpl = (
    load(n) for n in ["inprocess", "inprocess-plain", "http-swift", "http-swift-callback", "http-boto3", "http-aiokpl"])
print()
print(f"in process, aggregated:      {inproc['recordsPerSecond']:>10,} records/s")
print(f"in process, not aggregated:  {plain['recordsPerSecond']:>10,} records/s")
print(f"HTTP, Swift Producer:        {swift['recordsPerSecond']:>10,} records/s (tickets; per-key order)")
print(f"HTTP, Swift, callbacks:      {callback['recordsPerSecond']:>10,} records/s "
      f"({callback['recordsPerSecond'] / max(1, boto['recordsPerSecond']):.1f}x boto3, {callback['recordsPerSecond'] / max(1, aiokpl['recordsPerSecond']):.1f}x aiokpl)")
print(f"HTTP, boto3 put_records:     {boto['recordsPerSecond']:>10,} records/s   (Swift is {swift['recordsPerSecond'] / max(1, boto['recordsPerSecond']):.1f}x)")
print(f"HTTP, aiokpl:                {aiokpl['recordsPerSecond']:>10,} records/s   (Swift is {swift['recordsPerSecond'] / max(1, aiokpl['recordsPerSecond']):.1f}x)")
PY
