#!/usr/bin/env bash
# `kinesis-load run` and friends end to end: validate every shipped scenario, run the
# quickstart (passes, exit 0) and the hot-shard scenario (fails its thresholds on purpose,
# exit 99, the summary names the hot shard), rebuild a report from SQLite, list runs,
# predict partitions, run against an endpoint (moto), and stop a run with Ctrl-C (exit 130,
# what ran is stored). Prints "ok: ..." or "FAILED: ..." per check. Every wait is bounded, and
# what it starts in the background is stopped when it exits. KINESIS_LOAD_BIN names the
# binary to test (default: the debug build).
set -uo pipefail
cd "$(dirname "$0")/.."
endpoint=${1:-}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}
bin=${KINESIS_LOAD_BIN:-$(swift build --show-bin-path)/kinesis-load}
source scripts/lib.sh
smoke_init
db="$work/metrics.sqlite"

"$bin" validate Scenarios/*.json
check "every shipped scenario validates" test $? -eq 0

printf '{"name": "x", "stream": {"name": "s", "shard": 2}, "load": {"executor": "fixed-events", "events": 5}, "events": []}' >"$work/bad.json"
"$bin" validate "$work/bad.json" 2>"$work/bad.txt"
check "an invalid scenario exits 2" test $? -eq 2
check "validate names the path and suggests the key" grep -q '\$.stream.shard: unknown key "shard"; did you mean "shards"?' "$work/bad.txt"

bounded 300 "$bin" run Scenarios/quickstart.json --db "$db" --reports "$work/reports" >"$work/quick.txt"
code=$?
cat "$work/quick.txt"
quick=$(folder_of "$work/quick.txt")
check "quickstart passes (exit 0)" test "$code" -eq 0
check "quickstart writes summary.md, summary.json, index.html, junit.xml" \
    test -n "$quick" -a -s "$quick/summary.md" -a -s "$quick/summary.json" -a -s "$quick/index.html" -a -s "$quick/junit.xml"
check "quickstart summary says PASSED" grep -q 'PASSED' "$quick/summary.md"

bounded 300 "$bin" run Scenarios/hot-shard.json --db "$db" --reports "$work/reports" >"$work/hot.txt"
code=$?
cat "$work/hot.txt"
hot=$(folder_of "$work/hot.txt")
check "hot-shard fails its thresholds (exit 99)" test "$code" -eq 99
check "run names the failed thresholds" grep -q 'failed thresholds: .*throttled.rate < 1%' "$work/hot.txt"
check "the hot-shard summary names the hot shard" grep -qE '\*\*Hot shards?: shardId-[0-9]{12}' "$hot/summary.md"
check "the junit report has the failure" grep -q '<failure message="throttled.rate' "$hot/junit.xml"

rm -rf "$work/reports"
bounded 120 "$bin" report latest --db "$db" --reports "$work/reports" >/dev/null
check "report latest rebuilds from SQLite alone" grep -q 'Hot shard' "$hot/summary.md"
runs=$(bounded 60 "$bin" runs --db "$db")
echo "$runs"
check "runs lists both runs with their status" bash -c "grep -q 'quickstart.*passed' <<<\"\$1\" && grep -q 'hot-shard.*failed' <<<\"\$1\"" _ "$runs"

parts=$(bounded 60 "$bin" partitions Scenarios/hot-shard.json --shards 4)
echo "$parts"
check "partitions predicts the throttled shard" grep -q 'verdict: WOULD THROTTLE on shardId-' <<<"$parts"
parts=$(bounded 60 "$bin" partitions Scenarios/hot-shard.json --shards 4 --json)
check "partitions --json names the hot shard" python3 -c "import json,sys; d=json.loads(sys.argv[1]); assert d['wouldThrottle'] and d['hotShards']" "$parts"

parts=$(bounded 60 "$bin" partitions Scenarios/nestjs-strategies.json --shards 4)
echo "$parts"
check "partitions: the NestJS module's random_/rr_ keys reach 3 of 4 shards" \
    bash -c "grep -qE '^MODULE_RANDOM +nestjs random\(4\) .* 3 of 4 ' <<<\"\$1\" && grep -qE '^MODULE_ROUND_ROBIN +nestjs roundRobin\(4\) .* 3 of 4 ' <<<\"\$1\"" _ "$parts"
check "partitions: ours reach all 4" \
    bash -c "grep -qE '^OURS_ROUND_ROBIN +roundRobin\(shards\) .* 4 of 4 ' <<<\"\$1\" && grep -qE '^OURS_RANDOM +random .* 4 of 4 ' <<<\"\$1\"" _ "$parts"
# --dry-run sends nothing: its endpoint fails every request and notes that one came.
port=$(free_port)
python3 - "$port" "$work/requests.txt" <<'PY' &
import http.server, sys
class Refuse(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        open(sys.argv[2], "a").write(self.path + "\n")
        self.send_response(500); self.end_headers()
    do_GET = do_PUT = do_POST
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Refuse).serve_forever()
PY
background+=("$!")
sleep 0.5
bounded 60 "$bin" run Scenarios/quickstart.json --dry-run --endpoint "http://127.0.0.1:$port" --db "$work/dry.sqlite" >"$work/dry.txt" 2>&1
code=$?
cat "$work/dry.txt"
check "--dry-run prints the plan and exits 0" bash -c "test $code -eq 0 && grep -q 'plan of quickstart (dry run: nothing was sent)' '$work/dry.txt' && grep -q 'must exist (--create' '$work/dry.txt' && grep -q '^events: 20000 over 20 s' '$work/dry.txt'"
check "--dry-run sent no request and stored no run" bash -c "test ! -e '$work/requests.txt' && test ! -e '$work/dry.sqlite'"

# --aws on a terminal shows the plan and its cost and asks first; "n" sends nothing.
printf 'n\n' | AWS_REGION=us-east-1 AWS_ENDPOINT_URL= AWS_ENDPOINT_URL_KINESIS= script -qec "'$bin' run Scenarios/quickstart.json --aws --db '$work/aws.sqlite'" /dev/null >"$work/aws.txt" 2>&1
check "run --aws on a terminal shows the cost and asks; "n" starts nothing" \
    bash -c "grep -q 'cost: about \\\$0.0300 on AWS (us-east-1' '$work/aws.txt' && grep -q 'Start the run? \\[y/N\\]' '$work/aws.txt' && grep -q 'not started: nothing was sent' '$work/aws.txt' && test ! -e '$work/aws.sqlite'"

for name in nestjs-events nestjs-strategies; do
    bounded 300 "$bin" run "Scenarios/$name.json" --db "$db" --reports "$work/reports" --quiet >"$work/$name.txt" 2>&1
    code=$?
    cat "$work/$name.txt"
    check "$name runs and passes (exit 0)" test "$code" -eq 0
done
parts=$(bounded 60 "$bin" partitions Scenarios/nestjs-events.json --shards 4)
check "partitions names the NestJS events keyed by a handful of values" \
    bash -c "grep -q 'concentrates: LOG_EVENT (field(level))' <<<\"\$1\" && grep -q 'concentrates: BUSINESS_INSIGHT (field(category))' <<<\"\$1\"" _ "$parts"

if [ -n "$endpoint" ]; then
    cat >"$work/endpoint.json" <<JSON
{"name": "endpoint-check", "stream": {"name": "load-smoke-$$", "shards": 2},
 "load": {"executor": "fixed-events", "events": 300, "rate": 150},
 "publisher": {"mode": "aggregated", "maxBufferedTime": "50ms"},
 "events": [{"type": "E", "partitionKey": {"strategy": "random", "keys": 50}, "template": {"id": "{{uuid}}"}}],
 "thresholds": {"errors.count": "== 0"}}
JSON
    bounded 300 "$bin" run "$work/endpoint.json" --endpoint "$endpoint" --db "$db" --reports "$work/reports" >"$work/missing.txt" 2>&1
    code=$?
    check "run --endpoint without --create: a missing stream is an error naming it and --create" \
        bash -c "test $code -eq 1 && grep -q 'stream \"load-smoke-$$\" does not exist at $endpoint, and nothing was created: run again with --create' '$work/missing.txt'"
    check "and nothing was created" bash -c "! timeout 60 '$bin' streams list --endpoint '$endpoint' | grep -q 'load-smoke-$$'"
    bounded 300 "$bin" run "$work/endpoint.json" --endpoint "$endpoint" --create --delete-after --db "$db" --reports "$work/reports" >"$work/endpoint.txt" 2>"$work/endpoint.err"
    code=$?
    cat "$work/endpoint.txt" "$work/endpoint.err"
    check "run --endpoint --create against moto delivers every event" bash -c "test $code -eq 0 && grep -qE 'run [0-9]+ passed: 300 of 300 events delivered' '$work/endpoint.txt'"
    check "--delete-after deletes the stream the run created" bash -c "grep -q 'deleted stream load-smoke-$$, which this run created' '$work/endpoint.err' && ! timeout 60 '$bin' streams list --endpoint '$endpoint' | grep -q 'load-smoke-$$'"
    check "the target is stored as the endpoint" bash -c "timeout 60 '$bin' runs --db '$db' | grep -q 'endpoint-check.*$endpoint'"
fi

# Ctrl-C: stop a long run once it has started events; it exits 130 and stores what ran.
cat >"$work/long.json" <<JSON
{"name": "long", "stream": {"name": "long", "shards": 1},
 "load": {"executor": "constant-arrival-rate", "rate": 100, "duration": "10m"},
 "events": [{"type": "E", "partitionKey": {"strategy": "random"}, "template": {"id": "{{uuid}}"}}]}
JSON
timeout -k 5 300 "$bin" run "$work/long.json" --db "$work/long.sqlite" --reports "$work/reports" >"$work/long.txt" 2>&1 &
pid=$!
background+=("$pid")
for _ in $(seq 1 300); do
    n=$(sql "$work/long.sqlite" "SELECT COALESCE(SUM(started), 0) FROM event_seconds" 2>/dev/null || echo 0)
    [ "${n:-0}" -gt 0 ] && break
    sleep 0.1
done
kill -INT "$pid"
wait "$pid"
code=$?
cat "$work/long.txt"
check "Ctrl-C stops the run with exit 130" test "$code" -eq 130
status=$(sql "$work/long.sqlite" "SELECT status FROM runs")
check "the stopped run is stored as interrupted" test "$status" = "interrupted"
long=$(folder_of "$work/long.txt")
check "the stopped run's report was written" test -n "$long" -a -s "$long/summary.md"

echo "load smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
