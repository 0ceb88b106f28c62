#!/usr/bin/env bash
# Four segments of one run as four local processes (shared --start-at), merged, against the
# whole run, measured together: the combined rate and the merge's exactness. On a 2-core machine
# four workers share two cores, so this shows correctness and overhead, not speed.
#   bash Benchmarks/segments.sh            (release build, about 15 minutes cold)
#   KINESIS_LOAD=path bash Benchmarks/segments.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
if [ -n "${KINESIS_LOAD:-}" ]; then bin=$KINESIS_LOAD; else release_binary; fi
events=${EVENTS:-400000}
work=$(mktemp -d -t segments-bench.XXXXXX)
python3 - "$work/scenario.json" "$events" <<'PY'
import json, sys
s = json.load(open("Scenarios/quickstart.json"))
s.update(name="segments-bench", stream={"name": "bench", "shards": 8},
         load={"executor": "fixed-events", "events": int(sys.argv[2])}, publisher={"mode": "aggregated", "maxBufferedTime": "50ms"},
         thresholds={"errors.count": "== 0"})
json.dump(s, open(sys.argv[1], "w"))
PY
rate() { python3 -c "import json,glob,sys; s=json.load(open(sorted(glob.glob(sys.argv[1]+'/*/summary.json'))[-1])); print(s['rate']['achieved'], s['totals']['succeeded'], s['latencyMs']['p99'])" "$1"; }
echo "==> whole run: $events events, unpaced, 8 shards, aggregated, embedded engine without limits"
"$bin" run "$work/scenario.json" --no-limits --quiet --db "$work/whole.sqlite" --reports "$work/whole" >/dev/null
read -r whole_rate whole_ok whole_p99 <<<"$(rate "$work/whole")"
echo "==> four segments, one process each, starting together"
start=$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%SZ)
for i in 0 1 2 3; do
    "$bin" run "$work/scenario.json" --no-limits --quiet --segment "$i/4" --start-at "$start" --db "$work/s$i.sqlite" --reports "$work/r$i" >/dev/null &
done
wait
"$bin" merge "$work"/s{0,1,2,3}.sqlite --db "$work/merged.sqlite" --reports "$work/merged" >/dev/null
read -r merged_rate merged_ok merged_p99 <<<"$(rate "$work/merged")"
for i in 0 1 2 3; do echo "    segment $i/4: $(rate "$work/r$i" | awk '{printf "%.0f events/s, %d delivered", $1, $2}')"; done
printf 'whole run: %.0f events/s, %d delivered, p99 %.1f ms\n' "$whole_rate" "$whole_ok" "$whole_p99"
printf 'four segments merged: %.0f events/s, %d delivered, p99 %.1f ms\n' "$merged_rate" "$merged_ok" "$merged_p99"
python3 -c "import sys; print(f'ratio merged / whole: {float(sys.argv[1]) / float(sys.argv[2]):.2f} (2 cores: the four workers share them)')" "$merged_rate" "$whole_rate"
rm -rf "$work"
