#!/usr/bin/env bash
# Lease failover figures: see Benchmarks/leases.py. Needs moto (scripts/lib.sh installs it);
# starts its own moto_server on 127.0.0.1 and stops it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_python_deps
KINESIS_LOAD="${KINESIS_LOAD:-$(swift build --show-bin-path)/kinesis-load}"
[ -x "$KINESIS_LOAD" ] || swift build --product kinesis-load
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m moto.server -H 127.0.0.1 -p "$port" >/tmp/leases-bench-moto.log 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s "http://127.0.0.1:$port" >/dev/null && break; sleep 0.1; done
MOTO_ENDPOINT="http://127.0.0.1:$port" KINESIS_LOAD="$KINESIS_LOAD" python3 Benchmarks/leases.py
