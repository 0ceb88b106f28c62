#!/usr/bin/env bash
# The load runner's own figures (release build, embedded engine, limits off so the runner and
# not the simulated shards is measured). Not part of CI.
#
#   1. ceiling: events per second with aggregation, unpaced (fixed-events without a rate)
#   2. accuracy: 50,000 events/s for 60 s: achieved against target, scheduling lateness
#   3. memory: resident memory sampled every 30 s over a 10-minute run at 50,000 events/s
#
#   bash Benchmarks/runner.sh [ceiling events] [accuracy seconds] [memory minutes]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
events=${1:-3000000}
seconds=${2:-60}
minutes=${3:-10}
work=$(mktemp -d)
release_binary

figure() { # summary.json, python expression over s
    python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print($2)" "$1"
}

echo "==> 1. ceiling: $events events, unpaced, aggregated"
bench_scenario ceiling "{\"executor\": \"fixed-events\", \"events\": $events, \"maxInFlight\": 200000}"
"$bin" run "$work/ceiling.json" --no-limits --quiet --db "$work/m.sqlite" --reports "$work/reports" >/dev/null
summary="$work/reports/0001-ceiling/summary.json"
figure "$summary" "f\"ceiling: {s['totals']['succeeded']} events delivered, started at {s['rate']['achieved']:.0f} events/s, delivered at {s['rate']['delivered']:.0f} events/s (whole run), p99 {s['latencyMs']['p99']:.1f} ms\""

echo "==> 2. accuracy: 50,000 events/s for ${seconds} s"
bench_scenario accuracy "{\"executor\": \"constant-arrival-rate\", \"rate\": 50000, \"duration\": \"${seconds}s\"}"
"$bin" run "$work/accuracy.json" --no-limits --quiet --db "$work/m.sqlite" --reports "$work/reports" >/dev/null
summary="$work/reports/0002-accuracy/summary.json"
figure "$summary" "f\"accuracy: target {s['rate']['target']:.0f}/s, achieved {s['rate']['achieved']:.1f}/s ({s['rate']['accuracy']*100:.3f}%), dropped {s['totals']['dropped']}, lateness p50 {s['latenessMs']['p50']:.3f} ms p99 {s['latenessMs']['p99']:.3f} ms max {s['latenessMs']['max']:.1f} ms, latency p99 {s['latencyMs']['p99']:.1f} ms\""
figure "$summary" "'per-second started, min/max over full seconds: %d / %d' % (min(x['started'] for x in s['series'][1:-1]), max(x['started'] for x in s['series'][1:-1]))"

if [ "$minutes" -gt 0 ]; then
    echo "==> 3. memory: 50,000 events/s for ${minutes} min, resident memory every 30 s"
    bench_scenario memory "{\"executor\": \"constant-arrival-rate\", \"rate\": 50000, \"duration\": \"${minutes}m\"}"
    "$bin" run "$work/memory.json" --no-limits --quiet --db "$work/m.sqlite" --reports "$work/reports" >/dev/null &
    pid=$!
    samples=()
    while kill -0 "$pid" 2>/dev/null; do
        for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        [ -n "$rss" ] && samples+=("$((rss / 1024))")
    done
    wait "$pid" || true
    echo "resident MiB every 30 s: ${samples[*]}"
    summary="$work/reports/0003-memory/summary.json"
    figure "$summary" "f\"memory run: {s['totals']['succeeded']} events, achieved {s['rate']['achieved']:.1f}/s ({s['rate']['accuracy']*100:.3f}%), lateness p99 {s['latenessMs']['p99']:.3f} ms, dropped {s['totals']['dropped']}\""
    ls -la "$work/m.sqlite" | awk '{print "metrics.sqlite after three runs: " $5 " bytes"}'
fi
rm -rf "$work"
