#!/usr/bin/env bash
# PutRecord requests per second that `kinesis-load serve` (release build) answers versus
# moto_server, driven by wrk with the same fixed body, in one run. Not part of CI.
#
#   bash Benchmarks/serve-vs-moto.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
seconds=${1:-15}
connections=${2:-32}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
ensure_python_deps
release_binary

port=$(free_port)
"$bin" serve --port "$port" --stream bench:4 > /tmp/bench-serve.log 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true; stop_moto' EXIT
start_moto
for _ in $(seq 1 100); do grep -q listening /tmp/bench-serve.log && break; sleep 0.1; done
python3 - "$MOTO_ENDPOINT" <<'PY'
import sys, boto3
k = boto3.client("kinesis", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
k.create_stream(StreamName="bench", ShardCount=4)
PY

run() {
    local url=$1
    wrk -t2 -c"$connections" -d"${seconds}s" -s Benchmarks/put-record.lua "$url" 2>&1
}
echo "==> warm-up"
wrk -t1 -c4 -d2s -s Benchmarks/put-record.lua "http://127.0.0.1:$port" >/dev/null 2>&1 || true
echo "==> kinesis-load serve (release), ${seconds}s, $connections connections"
serve_out=$(run "http://127.0.0.1:$port"); echo "$serve_out"
echo "==> moto_server, ${seconds}s, $connections connections"
moto_out=$(run "$MOTO_ENDPOINT"); echo "$moto_out"
serve_rps=$(awk '/Requests\/sec/ {print $2}' <<<"$serve_out")
moto_rps=$(awk '/Requests\/sec/ {print $2}' <<<"$moto_out")
python3 -c "import sys; s, m = float(sys.argv[1]), float(sys.argv[2]); print(f'serve: {s:,.0f} req/s  moto: {m:,.0f} req/s  ratio: {s/m:,.1f}x')" "$serve_rps" "$moto_rps"
