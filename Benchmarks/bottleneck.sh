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
for args in "--outcome ticket" "--outcome callback" "--outcome counted" "--outcome counted --unordered"; do
    # shellcheck disable=SC2086
    "$bin" bench producer --records "$records" --json $args | tee -a "$work/producer.jsonl"
done

echo "==> 2. the runner's ceiling: $events events, unpaced, aggregated, 8 shards"
bench_scenario ceiling "{\"executor\": \"fixed-events\", \"events\": $events, \"maxInFlight\": 200000}"
"$bin" run "$work/ceiling.json" --no-limits --quiet --db "$work/m.sqlite" --reports "$work/reports" >/dev/null || true
# The runner's events are about 60 bytes: the Producer measured again with that size, 8 shards and callbacks, as the runner puts.
"$bin" bench producer --records "$events" --size 60 --shards 8 --outcome callback --json | tee "$work/producer-runner.json"

echo "==> 3. lateness: 50,000 events/s for ${seconds} s"
bench_scenario accuracy "{\"executor\": \"constant-arrival-rate\", \"rate\": 50000, \"duration\": \"${seconds}s\"}"
"$bin" run "$work/accuracy.json" --no-limits --quiet --db "$work/m.sqlite" --reports "$work/reports" >/dev/null || true

python3 - "$work" "$md5" <<'PY'
import json, sys
work, md5 = sys.argv[1], int(sys.argv[2])
rows = [json.loads(l) for l in open(f"{work}/producer.jsonl")]
print()
print(f"calibration: MD5 of 64-byte messages, one core: {md5:>12,}/s")
for r in rows:
    rate = r["recordsPerSecond"]
    print(f"Producer {r['ordering']:>7} {r['outcome']:>8}: {rate:>12,} records/s = {rate / md5:6.1%} of MD5")
counted = {r["ordering"]: r["recordsPerSecond"] for r in rows if r["outcome"] == "counted"}
print(f"per-key order costs {1 - counted['per-key'] / counted['none']:.1%} against ordering none (counted puts)")
ceiling = json.load(open(f"{work}/reports/0001-ceiling/summary.json"))
own = json.load(open(f"{work}/producer-runner.json"))["recordsPerSecond"]
started = ceiling["rate"]["achieved"]
print(f"runner ceiling: {started:,.0f} events/s started, {ceiling['rate']['delivered']:,.0f} delivered; its Producer alone "
      f"(60 B, 8 shards, callbacks): {own:,} records/s; runner = {started / own:.1%} of its Producer")
acc = json.load(open(f"{work}/reports/0002-accuracy/summary.json"))
late = acc["latenessMs"]
print(f"schedule at 50,000 events/s: achieved {acc['rate']['achieved']:,.1f}/s, lateness p50 {late['p50']:.3f} ms, "
      f"p99 {late['p99']:.3f} ms, max {late['max']:.1f} ms, dropped {acc['totals']['dropped']}")
PY
