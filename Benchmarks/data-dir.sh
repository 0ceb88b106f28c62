#!/usr/bin/env bash
# What `serve --data-dir` costs: records per second through the Producer into `kinesis-load serve`
# keeping records in memory only, and into one that writes them to a data directory (fsynced before
# each answer), in one run. Release build; not part of CI.
#
#   bash Benchmarks/data-dir.sh [aggregated records] [plain records]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
aggregated=${1:-1000000}
plain=${2:-200000}
release_binary
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT

run() {  # label, extra serve flags...
    local label=$1; shift
    local port; port=$(free_port)
    "$bin" serve --port "$port" --retain-per-shard none "$@" > "$out/$label.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do grep -q listening "$out/$label.log" && break; sleep 0.1; done
    local url="http://127.0.0.1:$port"
    local agg plainrate
    agg=$("$bin" bench producer --endpoint "$url" --stream agg --records "$aggregated" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["recordsPerSecond"])')
    plainrate=$("$bin" bench producer --endpoint "$url" --stream plain --records "$plain" --no-aggregate --batch 500 --concurrency 4 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["recordsPerSecond"])')
    kill "$pid"; wait "$pid" 2>/dev/null || true
    echo "$label $agg $plainrate"
}
memory=$(run memory)
disk=$(run disk --data-dir "$out/data")
echo "journal: $(du -sh "$out/data" | cut -f1) in $out/data"
python3 - "$memory" "$disk" <<'PY'
import sys
m, d = sys.argv[1].split(), sys.argv[2].split()
print(f"aggregated: memory {int(float(m[1])):,} records/s, --data-dir {int(float(d[1])):,} records/s ({float(d[1]) / float(m[1]):.2f}x)")
print(f"plain, 500 a call, 4 tasks: memory {int(float(m[2])):,} records/s, --data-dir {int(float(d[2])):,} records/s ({float(d[2]) / float(m[2]):.2f}x)")
PY
