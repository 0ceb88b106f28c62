#!/usr/bin/env bash
# "Never the bottleneck", side by side in one run (release build, embedded engine; not part of CI):
#
#   0. calibration: MD5 over 64-byte messages on one core (`openssl speed -bytes 64 md5`)
#   1. the Producer: aggregated, 100-byte records, 1,000 keys, 4 shards; per-key order with each
#      kind of put (ticket, callback, counted), and without order (counted)
#   2. the runner's unpaced ceiling (fixed-events, aggregated, limits off, 8 shards) against the
#      Producer's own rate just measured
#   3. the schedule's lateness at 50,000 events/s (the runner's accuracy scenario)
#
# The Producer's configurations are alternated three times and the ceiling twice: on this kind of
# machine one run differs from the next by 10-30%, so medians are printed.
#
#   bash Benchmarks/bottleneck.sh [producer records] [ceiling events] [lateness seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
records=${1:-2000000}
events=${2:-2000000}
seconds=${3:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
release_binary

echo "==> 0. calibration: openssl speed -seconds 3 -bytes 64 md5"
md5=$(openssl speed -seconds 3 -bytes 64 md5 2>/dev/null | awk '/^md5/ {sub("k", "", $2); printf "%d", $2 * 1000 / 64}')
echo "md5: $md5 64-byte messages/s on one core"

echo "==> 1. the Producer, $records records"
: >"$work/producer.jsonl"
for _ in 1 2 3; do
    for args in "--outcome ticket" "--outcome callback" "--outcome counted" "--outcome counted --unordered"; do
        # shellcheck disable=SC2086
        "$bin" bench producer --records "$records" --json $args | tee -a "$work/producer.jsonl"
    done
done

echo "==> 2. the runner's ceiling: $events events, unpaced, aggregated, 8 shards"
bench_scenario ceiling "{\"executor\": \"fixed-events\", \"events\": $events, \"maxInFlight\": 200000}"
: >"$work/producer-runner.jsonl"
for round in 1 2; do
    "$bin" run "$work/ceiling.json" --no-limits --quiet --db "$work/ceiling-$round.sqlite" --reports "$work/ceiling-$round" >/dev/null || true
    # The runner's events are about 60 bytes: the Producer again with that size, 8 shards and callbacks, as the runner puts.
    "$bin" bench producer --records "$events" --size 60 --shards 8 --outcome callback --json | tee -a "$work/producer-runner.jsonl"
done

echo "==> 3. lateness: 50,000 events/s for ${seconds} s"
bench_scenario accuracy "{\"executor\": \"constant-arrival-rate\", \"rate\": 50000, \"duration\": \"${seconds}s\"}"
"$bin" run "$work/accuracy.json" --no-limits --quiet --db "$work/m.sqlite" --reports "$work/reports" >/dev/null || true

python3 - "$work" "$md5" <<'PY'
import glob, json, sys
work, md5 = sys.argv[1], int(sys.argv[2])
from statistics import median
rows = [json.loads(l) for l in open(f"{work}/producer.jsonl")]
print()
print(f"calibration: MD5 of 64-byte messages, one core: {md5:>12,}/s")
rates = {}
for r in rows:
    rates.setdefault((r["ordering"], r["outcome"]), []).append(r["recordsPerSecond"])
for (ordering, outcome), values in rates.items():
    rate = median(values)
    print(f"Producer {ordering:>7} {outcome:>8}: {rate:>12,.0f} records/s = {rate / md5:6.1%} of MD5 (runs: {', '.join(f'{v:,}' for v in values)})")
print(f"per-key order costs {1 - median(rates[('per-key', 'counted')]) / median(rates[('none', 'counted')]):.1%} against ordering none (counted puts)")
ceilings = [json.load(open(f"{work}/ceiling-{n}/0001-ceiling/summary.json"))["rate"]["achieved"] for n in (1, 2)]
owns = [json.loads(l)["recordsPerSecond"] for l in open(f"{work}/producer-runner.jsonl")]
print(f"runner ceiling: {', '.join(f'{c:,.0f}' for c in ceilings)} events/s started; its Producer alone (60 B, 8 shards, "
      f"callbacks), alternated with it: {', '.join(f'{o:,}' for o in owns)} records/s; "
      f"runner = {median(ceilings) / median(owns):.1%} of its Producer (medians)")
acc = json.load(open(glob.glob(f"{work}/reports/*-accuracy/summary.json")[0]))
late = acc["latenessMs"]
print(f"schedule at 50,000 events/s: achieved {acc['rate']['achieved']:,.1f}/s, lateness p50 {late['p50']:.3f} ms, "
      f"p99 {late['p99']:.3f} ms, max {late['max']:.1f} ms, dropped {acc['totals']['dropped']}")
PY
