#!/usr/bin/env bash
# The read side of `kinesis-load run` end to end: a clean run with verification passes with
# end-to-end percentiles and lag (embedded engine and moto_server); `serve --faults drop=0.01`
# makes a run exit 99 with about 1% lost and examples; `duplicate=0.01` reports the duplicates;
# the hot shard's consumer falls behind and the report says so; and the HTML report renders in
# headless Chromium with every chart (its screenshot is kept in the run's folder).
# Prints "ok: ..." or "FAILED: ..." per check. Usage: readback-smoke.sh [MOTO_ENDPOINT]
set -uo pipefail
cd "$(dirname "$0")/.."
endpoint=${1:-}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}
export AWS_REGION=${AWS_REGION:-us-east-1}
bin=${KINESIS_LOAD_BIN:-$(swift build --show-bin-path)/kinesis-load}
source scripts/lib.sh
smoke_init
db="$work/metrics.sqlite"
# A value of the run's summary.json, by a Python expression on `d`.
summary() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]+"/summary.json")); print(eval(sys.argv[2]))' "$1" "$2"; }

bounded 300 "$bin" run Scenarios/end-to-end.json --db "$db" --reports "$work/reports" --quiet >"$work/e2e.txt"
code=$?
cat "$work/e2e.txt"
e2e=$(folder_of "$work/e2e.txt")
check "end-to-end passes with verification on (exit 0)" test "$code" -eq 0
check "nothing lost, duplicated or out of order; every event read" \
    test "$(summary "$e2e" '(d["verification"]["lost"], d["verification"]["duplicated"], d["verification"]["outOfOrder"], d["verification"]["read"] == d["verification"]["acknowledged"] == 20000)')" = "(0, 0, 0, True)"
check "end-to-end percentiles for every event" test "$(summary "$e2e" 'd["endToEndMs"]["count"] == 20000 and 0 < d["endToEndMs"]["p50"] <= d["endToEndMs"]["p99"] <= d["endToEndMs"]["max"]')" = "True"
check "lag per shard per second is stored" test "$(sql "$db" 'SELECT COUNT(DISTINCT shard_id) FROM read_seconds WHERE max_behind_ms IS NOT NULL')" = "4"
check "the briefing reports the read-back" grep -q 'read back: 20000 of 20000 acknowledged events; 0 lost' "$work/e2e.txt"

# The HTML report in a real browser: it renders, every chart is there, and a screenshot is kept.
if command -v chromium >/dev/null; then
    browser=chromium
    "$browser" --headless --no-sandbox --disable-gpu --dump-dom "file://$e2e/index.html" >"$work/dom.html" 2>"$work/chromium.log"
    check "Chromium renders the report with all six charts, verdict first" python3 - "$work/dom.html" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
charts = re.findall(r'<figure class="chart" data-chart="([a-z]+)">.*?</figure>', dom, re.S)
assert charts == ["rate", "latency", "distribution", "lag", "throttles", "shards"], charts
assert dom.index("PASSED") < dom.index('data-chart="rate"'), "verdict after the charts"
for figure in re.findall(r'<figure class="chart".*?</figure>', dom, re.S):
    assert "<polyline" in figure or "<rect" in figure, figure[:200]
    assert "0.00</text><text" not in figure.replace("\n", ""), "flat 0.00 ticks"
PY
    "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,4200 --screenshot="$e2e/screenshot.png" \
        "file://$e2e/index.html" >/dev/null 2>>"$work/chromium.log"
    check "the screenshot is kept in the run's folder" python3 - "$e2e/screenshot.png" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
width, height = struct.unpack(">II", data[16:24])
assert width >= 1000 and height >= 2000 and len(data) > 50_000, (width, height, len(data))
PY
    # Kept for people who want to look (Reports/ is not tracked): the report and what Chromium drew.
    rm -rf Reports/browser-check && mkdir -p Reports/browser-check && cp -r "$e2e" Reports/browser-check/
    echo "the checked report and its screenshot: Reports/browser-check/$(basename "$e2e")/"
else
    check "chromium is installed (scripts/lib.sh installs it)" false
fi

# Faults that prove the checks, through `kinesis-load serve`: one Kinesis record per event.
cat >"$work/faults.json" <<JSON
{"name": "faults", "stream": {"name": "faults", "shards": 2},
 "load": {"executor": "constant-arrival-rate", "rate": 1000, "duration": "4s"},
 "publisher": {"mode": "putRecords", "maxBufferedTime": "20ms"},
 "events": [{"type": "E", "partitionKey": {"strategy": "random", "keys": 200}, "template": {"id": "{{uuid}}", "n": "{{seq}}"}}],
 "consume": {"consumers": 2, "verify": true, "catchUpTimeout": "60s"}}
JSON
start_serve --faults drop=0.01,seed=4
bounded 300 "$bin" run "$work/faults.json" --endpoint "$serve_url" --create --db "$db" --reports "$work/reports" --quiet >"$work/drop.txt"
code=$?
cat "$work/drop.txt"
drop=$(folder_of "$work/drop.txt")
check "serve --faults drop=0.01: the run exits 99" test "$code" -eq 99
check "about 1% of 4,000 events lost" test "$(summary "$drop" '20 <= d["verification"]["lost"] <= 80 and d["verification"]["read"] + d["verification"]["lost"] == 4000')" = "True"
check "the summary lists lost examples" grep -qE '^\| lost \| E \| `[^`]+` \| shardId-[0-9]{12} \| [0-9]{20,} \| 0 \|' "$drop/summary.md"
check "junit fails lost.count" grep -q '<failure message="lost.count was' "$drop/junit.xml"

start_serve --faults duplicate=0.01,seed=4
bounded 300 "$bin" run "$work/faults.json" --endpoint "$serve_url" --create --db "$db" --reports "$work/reports" --quiet >"$work/dup.txt"
code=$?
cat "$work/dup.txt"
dup=$(folder_of "$work/dup.txt")
check "serve --faults duplicate=0.01: nothing lost (exit 0)" test "$code" -eq 0
check "about 1% of 4,000 events read twice, none unexpected" \
    test "$(summary "$dup" '20 <= d["verification"]["duplicated"] <= 80 and d["verification"]["lost"] == 0 and d["verification"]["unexpected"] == 0')" = "True"
check "the summary lists duplicated examples" grep -qE '^\| duplicated \| E \|' "$dup/summary.md"

bounded 300 "$bin" run Scenarios/hot-shard-consumers.json --db "$db" --reports "$work/reports" --quiet >"$work/lag.txt"
code=$?
cat "$work/lag.txt"
lag=$(folder_of "$work/lag.txt")
hot=$(summary "$lag" 'd["hotShards"][0]')
check "hot-shard-consumers fails its lag threshold (exit 99)" bash -c "test $code -eq 99 && grep -q 'FAIL lag.max < 2s' '$work/lag.txt'"
check "the report says the hot shard's consumer fell behind" grep -q "the consumer of $hot fell behind" "$lag/summary.md"
check "only the hot shard lags" test "$(summary "$lag" 'd["reads"]["laggingShards"]')" = "['$hot']"

rm -rf "$work/reports"
bounded 120 "$bin" report "$(sql "$db" "SELECT id FROM runs WHERE scenario = 'end-to-end'")" --db "$db" --reports "$work/reports" >/dev/null
check "report rebuilds verification and end-to-end from SQLite alone" grep -q 'Every acknowledged event was read back exactly once' "$e2e/summary.md"

if [ -n "$endpoint" ]; then
    cat >"$work/moto.json" <<JSON
{"name": "moto-readback", "stream": {"name": "readback-$$", "shards": 2},
 "load": {"executor": "fixed-events", "events": 600, "rate": 200},
 "publisher": {"mode": "aggregated", "maxBufferedTime": "50ms"},
 "events": [{"type": "E", "partitionKey": {"strategy": "random", "keys": 50}, "template": {"id": "{{uuid}}", "n": "{{seq}}"}}],
 "consume": {"consumers": 2, "verify": true, "catchUpTimeout": "60s"},
 "thresholds": {"e2e.p99": "< 30s"}}
JSON
    bounded 300 "$bin" run "$work/moto.json" --endpoint "$endpoint" --create --delete-after --db "$db" --reports "$work/reports" --quiet >"$work/moto.txt"
    code=$?
    cat "$work/moto.txt"
    moto=$(folder_of "$work/moto.txt")
    check "against moto_server: verification reads all 600 back (exit 0)" bash -c "test $code -eq 0 && grep -q 'read back: 600 of 600 acknowledged events; 0 lost, 0 not verified, 0 duplicated, 0 reread, 0 out of order' '$work/moto.txt'"
    check "against moto_server: end-to-end percentiles" test "$(summary "$moto" 'd["endToEndMs"]["count"] == 600')" = "True"
fi

echo "readback-smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
