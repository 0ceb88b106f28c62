#!/usr/bin/env bash
# The read side of the runner at 50,000 events/s with read-back verification on (release
# build, embedded engine, limits off): the rate against target, end-to-end latency, lag, the
# verdict, and resident memory sampled every 30 s (the matching state must not grow with the
# run). Not part of CI.
#
#   bash Benchmarks/readback.sh [minutes] [rate]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
minutes=${1:-5}
rate=${2:-50000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
release_binary

cat >"$work/readback.json" <<JSON
{"name": "readback-bench", "seed": 1, "stream": {"name": "bench", "shards": 8},
 "load": {"executor": "constant-arrival-rate", "rate": $rate, "duration": "${minutes}m"},
 "publisher": {"mode": "aggregated", "maxBufferedTime": "100ms", "rateLimitPercent": null, "maxConcurrentRequests": 16},
 "keys": {"users": {"count": 100000}},
 "events": [{"type": "E", "partitionKey": {"strategy": "key", "pool": "users"},
             "template": {"id": "{{uuid}}", "user": "{{key users}}", "n": "{{seq}}", "v": "{{int 1 1000}}"}}],
 "consume": {"consumers": 2, "verify": true, "catchUpTimeout": "120s"}}
JSON

echo "==> $rate events/s for $minutes min with verification on; resident memory every 30 s"
"$bin" run "$work/readback.json" --no-limits --quiet --db "$work/m.sqlite" --reports "$work/reports" >"$work/out.txt" || true &
pid=$!
samples=()
while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    child=$(pgrep -P "$pid" -f kinesis-load | head -1 || true)
    rss=$(awk '/VmRSS/ {print $2}' "/proc/${child:-$pid}/status" 2>/dev/null || true)
    [ -n "$rss" ] && samples+=("$((rss / 1024))")
done
wait "$pid" || true
cat "$work/out.txt"
echo "resident MiB every 30 s: ${samples[*]}"
python3 - "$work/reports/0001-readback-bench/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
r, v, e, reads = s["rate"], s["verification"], s["endToEndMs"], s["reads"]
print(f"rate: target {r['target']:.0f}/s, achieved {r['achieved']:.1f}/s ({r['accuracy']*100:.3f}% of target), dropped {s['totals']['dropped']}")
print(f"verification: acknowledged {v['acknowledged']}, read {v['read']}, lost {v['lost']}, duplicated {v['duplicated']}, out of order {v['outOfOrder']}, unexpected {v['unexpected']}, caught up {v['caughtUp']}")
print(f"end to end: p50 {e['p50']:.1f} ms, p99 {e['p99']:.1f} ms, max {e['max']:.1f} ms; acknowledgement p99 {s['latencyMs']['p99']:.1f} ms; largest lag {reads['maxLagMs']} ms")
PY
