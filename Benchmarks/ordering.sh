#!/usr/bin/env bash
# What the Producer's per-key order costs: records per second with ordering per-key (the
# default) and none, in process and over HTTP into `kinesis-load serve`, aggregated and not
# (100-byte records, 1,000 keys, 4 shards, limits off), in one run. Release build; not part of CI.
#
#   bash Benchmarks/ordering.sh [in-process records] [HTTP records]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
inprocess=${1:-2000000}
http=${2:-300000}
release_binary
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
out=$(mktemp -d)

run() {   # name, then bench arguments
    local name=$1; shift
    "$bin" bench producer "$@" --json | tee "$out/$name.json"
}
echo "==> in process"
run inproc-agg-ordered --records "$inprocess"
run inproc-agg-none --records "$inprocess" --unordered
run inproc-plain-ordered --records "$inprocess" --no-aggregate
run inproc-plain-none --records "$inprocess" --no-aggregate --unordered

port=$(free_port)
"$bin" serve --port "$port" > "$out/serve.log" 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true; rm -rf "$out"' EXIT
for _ in $(seq 1 100); do grep -q listening "$out/serve.log" && break; sleep 0.1; done
url="http://127.0.0.1:$port"
echo "==> over HTTP to kinesis-load serve ($url)"
run http-agg-ordered --endpoint "$url" --stream ordered --records "$http"
run http-agg-none --endpoint "$url" --stream unordered --records "$http" --unordered
run http-plain-ordered --endpoint "$url" --stream plain-ordered --records "$http" --no-aggregate
run http-plain-none --endpoint "$url" --stream plain-unordered --records "$http" --no-aggregate --unordered

OUT="$out" python3 - <<'PY'
import json, os
def rate(name): return json.load(open(f"{os.environ['OUT']}/{name}.json"))["recordsPerSecond"]
print()
for where in ["inproc", "http"]:
    for kind in ["agg", "plain"]:
        ordered, none = rate(f"{where}-{kind}-ordered"), rate(f"{where}-{kind}-none")
        label = f"{'in process' if where == 'inproc' else 'HTTP to serve'}, {'aggregated' if kind == 'agg' else 'not aggregated'}:"
        print(f"{label:<36} per-key {ordered:>10,} records/s, none {none:>10,} records/s, per-key keeps {ordered / max(1, none):.0%}")
PY
