#!/usr/bin/env bash
# Runs every test: installs what they need, starts moto_server on a free port of 127.0.0.1,
# regenerates the botocore SigV4 vectors with the installed botocore, runs the Swift tests,
# and checks the CLI end to end against moto.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_python_deps
trap stop_moto EXIT
start_moto

echo "==> botocore SigV4 vectors"
python3 scripts/gen_botocore_sigv4.py Tests/KinesisTests/Fixtures/botocore-sigv4.json

echo "==> swift test"
swift test 2>&1 | tee /tmp/kinesis-swift-test.log | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Linking|Write|Wrapping|Applying)'
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then exit "$status"; fi

echo "==> CLI against moto"
bash scripts/cli-smoke.sh "$MOTO_ENDPOINT"
