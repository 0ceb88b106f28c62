#!/usr/bin/env bash
# `kinesis-load streams` end to end against an endpoint: create a 2-shard stream, check that
# describe shows both shards with their hash ranges, check errors and exit codes, delete it.
# A failing step prints "FAILED: ..." and the checks go on. KINESIS_LOAD_BIN names the binary.
set -uo pipefail
cd "$(dirname "$0")/.."
endpoint=$1
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}
bin=${KINESIS_LOAD_BIN:-$(swift build --show-bin-path)/kinesis-load}
stream="smoke-$$"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
check() {
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok: $name"; else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

timeout 120 "$bin" streams create "$stream" --shards 2 --endpoint "$endpoint" >"$work/create.txt"
check "streams create exits 0" test $? -eq 0
describe=$("$bin" streams describe "$stream" --endpoint "$endpoint")
echo "$describe"
check "describe shows shard 0 with its range" grep -q "shardId-000000000000  open   0  *170141183460469231731687303715884105727" <<<"$describe"
check "describe shows shard 1 with its range" grep -q "shardId-000000000001  open   170141183460469231731687303715884105728  *340282366920938463463374607431768211455" <<<"$describe"
json=$("$bin" streams describe "$stream" --endpoint "$endpoint" --json)
check "describe --json has two shards" python3 -c "import json,sys; d=json.loads(sys.argv[1]); assert len(d['shards'])==2 and d['status']=='ACTIVE'" "$json"
check "list shows the stream" bash -c "'$bin' streams list --json --endpoint '$endpoint' | python3 -c 'import json,sys; assert \"$stream\" in json.load(sys.stdin)[\"streams\"]'"

err=$("$bin" streams create "$stream" --endpoint "$endpoint" 2>&1 || true)
check "the error names ResourceInUseException" grep -q "ResourceInUseException" <<<"$err"
err=$(KINESIS_SHARD_COUNT=four "$bin" streams list --endpoint "$endpoint" 2>&1 || true)
check "a bad KINESIS_SHARD_COUNT is named with its range" grep -q "KINESIS_SHARD_COUNT='four' is not valid: expected an integer from 1 to 100000" <<<"$err"
retention=$(KINESIS_RETENTION_PERIOD=48 timeout 120 "$bin" streams create "$stream-r" --shards 1 --endpoint "$endpoint" --json)
check "streams create takes KINESIS_RETENTION_PERIOD as its default" python3 -c "import json,sys; assert json.loads(sys.argv[1])['retentionPeriodHours']==48" "$retention"
put=$(printf '{"user":"a"}\n{"user":"b"}\n' | KINESIS_STREAM_NAME="$stream-r" timeout 120 "$bin" put --key-field user --endpoint "$endpoint")
check "put publishes to KINESIS_STREAM_NAME when no stream is named" grep -q "sent: 2, failed: 0" <<<"$put"
timeout 120 "$bin" streams delete "$stream-r" --endpoint "$endpoint" >/dev/null
timeout 120 "$bin" streams delete "$stream" --endpoint "$endpoint"
check "streams delete exits 0" test $? -eq 0
err=$("$bin" streams describe "$stream" --endpoint "$endpoint" 2>&1 || true)
check "a deleted stream is ResourceNotFoundException" grep -q "ResourceNotFoundException" <<<"$err"
echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
