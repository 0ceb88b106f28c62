#!/usr/bin/env bash
# The main job, until `kinesis-load run` exists: `kinesis-load streams` against a local
# Kinesis endpoint, the project's own engine served by `kinesis-load serve` on a free port
# of 127.0.0.1. Creates a 2-shard stream, shows it with its hash key ranges, lists streams,
# deletes it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

swift build --product kinesis-load 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
bin=$(swift build --show-bin-path)/kinesis-load
port=$(free_port)
log=$(mktemp)
"$bin" serve --port "$port" >"$log" 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q listening "$log" && break; sleep 0.1; done
cat "$log"
endpoint="http://127.0.0.1:$port"
# The local endpoint accepts any key pair unless started with --auth; these never leave this machine.
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}

set -x
"$bin" streams create demo --shards 2 --endpoint "$endpoint"
"$bin" streams list --endpoint "$endpoint"
"$bin" streams describe demo --endpoint "$endpoint" --json
"$bin" streams delete demo --endpoint "$endpoint"
