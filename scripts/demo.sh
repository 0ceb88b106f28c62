#!/usr/bin/env bash
# The main job, until `kinesis-load run` exists: `kinesis-load streams` against a local
# Kinesis endpoint (moto_server on a free port of 127.0.0.1, installed with pip if missing).
# Creates a 2-shard stream, shows it with its hash key ranges, lists streams, deletes it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_python_deps
trap stop_moto EXIT
start_moto
swift build --product kinesis-load 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
bin=$(swift build --show-bin-path)/kinesis-load
# moto accepts any key pair; these never leave this machine.
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}

set -x
"$bin" streams create demo --shards 2 --endpoint "$MOTO_ENDPOINT"
"$bin" streams list --endpoint "$MOTO_ENDPOINT"
"$bin" streams describe demo --endpoint "$MOTO_ENDPOINT" --json
"$bin" streams delete demo --endpoint "$MOTO_ENDPOINT"
