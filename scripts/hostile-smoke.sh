#!/usr/bin/env bash
# What a careless or hostile user tries, through the built binary: stop signals other than
# Ctrl-C, kill -9, report folders of two databases, unwritable report folders, out-of-range
# numbers, bytes that are not UTF-8, damaged databases, huge scenarios, a full disk under
# serve --data-dir (a 3 MiB tmpfs, which needs root, as CI and this machine have). Prints "ok: ..." or
# "FAILED: ..." per check; every wait is bounded and what starts in the background is stopped.
# KINESIS_LOAD_BIN names the binary (default: the debug build).
set -uo pipefail
cd "$(dirname "$0")/.."
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}
export SWIFT_BACKTRACE=enable=no
bin=${KINESIS_LOAD_BIN:-$(swift build --show-bin-path)/kinesis-load}
source scripts/lib.sh
smoke_init
# Waits (at most 30 s) until a run in $1 has stored started events.
wait_started() {
    for _ in $(seq 1 300); do
        n=$(sql "$1" "SELECT COALESCE(SUM(started), 0) FROM event_seconds" 2>/dev/null || echo 0)
        [ "${n:-0}" -gt 0 ] && return 0
        sleep 0.1
    done
    return 1
}

cat >"$work/long.json" <<JSON
{"name": "long", "stream": {"name": "long", "shards": 1},
 "load": {"executor": "constant-arrival-rate", "rate": 100, "duration": "10m"},
 "events": [{"type": "E", "partitionKey": {"strategy": "random"}, "template": {"id": "{{uuid}}"}}]}
JSON
cat >"$work/short.json" <<JSON
{"name": "short", "stream": {"name": "short", "shards": 1},
 "load": {"executor": "fixed-events", "events": 20, "rate": 100},
 "events": [{"type": "E", "partitionKey": {"strategy": "random"}, "template": {"id": "{{uuid}}"}}],
 "thresholds": {"errors.count": "== 0"}}
JSON

# SIGTERM and SIGHUP stop a run as Ctrl-C does, with 128 + the signal.
for sig in TERM:143 HUP:129; do
    name=${sig%%:*}
    want=${sig##*:}
    db="$work/$name.sqlite"
    # timeout passes the signal on to the run.
    timeout -k 5 300 "$bin" run "$work/long.json" --db "$db" --reports "$work/reports-$name" --quiet >"$work/$name.txt" 2>&1 &
    pid=$!
    background+=("$pid")
    wait_started "$db"
    kill -"$name" "$pid"
    wait "$pid"
    code=$?
    check "SIG$name stops the run with exit $want" test "$code" -eq "$want"
    check "the SIG$name run is stored as interrupted" test "$(sql "$db" "SELECT status FROM runs")" = "interrupted"
    folder=$(folder_of "$work/$name.txt")
    check "the SIG$name run's reports were written and say interrupted" grep -q 'status interrupted' "$folder/summary.md"
done

# kill -9: the run is abandoned, never left running, and its report never passes.
db="$work/kill.sqlite"
# Started directly, so that kill -9 reaches the run itself (the trap kills it if a check fails).
"$bin" run "$work/long.json" --db "$db" --reports "$work/reports" --quiet >/dev/null 2>&1 &
pid=$!
background+=("$pid")
wait_started "$db"
kill -9 "$pid"
wait "$pid" 2>/dev/null
runs=$(bounded 60 "$bin" runs --db "$db")
echo "$runs"
check "runs shows a killed run as abandoned" grep -qE '^1 +long .* abandoned' <<<"$runs"
bounded 60 "$bin" report 1 --db "$db" --reports "$work/reports" >"$work/killed.txt"
check "report of a killed run says ABANDONED" grep -q 'ABANDONED' "$work/killed.txt"
check "report of a killed run never says PASSED" bash -c "! grep -q PASSED '$work/killed.txt'"

# A run to look at: its database and report folder serve the checks below.
bounded 120 "$bin" run "$work/short.json" --db "$work/a.sqlite" --reports "$work/shared" --quiet >"$work/a.txt"
a=$(folder_of "$work/a.txt")
check "a short run passes and names its report folder" test -n "$a" -a -f "$a/summary.json"

# --reports that is a file: refused before any load, exit 1, nothing stored as completed.
touch "$work/afile"
start=$(date +%s)
bounded 120 "$bin" run "$work/long.json" --db "$work/file.sqlite" --reports "$work/afile" >/dev/null 2>"$work/file.txt"
code=$?
check "--reports pointing at a file exits 1 at once" test "$code" -eq 1 -a $(($(date +%s) - start)) -lt 30
check "the error names --reports" grep -q -- '--reports .*afile: is a file, not a folder' "$work/file.txt"
check "no run is stored for it" test "$(sql "$work/file.sqlite" "SELECT COUNT(*) FROM runs")" = "0"

# Scenario validation (names, sizes, stages, files), report folders of two databases and huge
# scenarios are pinned by Tests/KinesisLoadTests/HostileInputTests.swift: no process needed.

# Out-of-range numbers: clear errors, never a crash (132).
"$bin" partitions "$work/short.json" --rate inf 2>"$work/inf.txt"
code=$?
check "partitions --rate inf is an error naming --rate (exit $code)" bash -c "test $code -ne 132 && test $code -ne 0 && grep -q -- '--rate must be from' '$work/inf.txt'"
"$bin" partitions "$work/short.json" --rate 1e300 2>/dev/null
code=$?
check "partitions --rate 1e300 does not crash (exit $code)" test "$code" -eq 64
echo x | "$bin" put s --endpoint http://127.0.0.1:70000 2>"$work/port.txt"
code=$?
check "an endpoint port above 65535 is named (exit $code)" bash -c "test $code -eq 1 -o $code -eq 64 && grep -q 'a port from 1 to 65535' '$work/port.txt'"
echo x | AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:99999 "$bin" put s 2>"$work/port2.txt"
code=$?
check "AWS_ENDPOINT_URL_KINESIS with a port above 65535 is named (exit $code)" bash -c "test $code -ne 132 && grep -q 'AWS_ENDPOINT_URL_KINESIS' '$work/port2.txt'"
"$bin" runs --db "$work/a.sqlite" --limit -1 2>/dev/null
check "runs --limit -1 is refused, not a crash" test $? -eq 64

# --db that cannot be opened: a sentence and exit 1, not usage text and 64.
"$bin" runs --db "$work" 2>"$work/dbdir.txt"
code=$?
check "--db naming a directory exits 1 with a sentence" bash -c "test $code -eq 1 && grep -q -- '--db .*: is a directory' '$work/dbdir.txt' && ! grep -q USAGE '$work/dbdir.txt'"
"$bin" report 1 --db "$work/nothing.sqlite" 2>"$work/nodb.txt"
check "report on a missing --db exits 1" test $? -eq 1

# A damaged run does not hide the others.
cp "$work/a.sqlite" "$work/damaged.sqlite"
bounded 120 "$bin" run "$work/short.json" --db "$work/damaged.sqlite" --reports "$work/reports" --quiet >/dev/null
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("UPDATE runs SET thresholds = ? WHERE id = 1", ("{broken",)); c.commit()' "$work/damaged.sqlite"
bounded 60 "$bin" runs --db "$work/damaged.sqlite" >"$work/damaged.txt" 2>"$work/damaged.err"
check "runs still lists the good run" grep -qE '^2 +short .* passed' "$work/damaged.txt"
check "runs names the damaged run" grep -q 'run 1 is damaged' "$work/damaged.err"

# put: bytes as they are; a directory as stdin is an error.
start_serve --stream raw:1
url=$serve_url
printf 'caf\xe9 \xff\xfe\n{"k":"a"}\n' | bounded 60 "$bin" put raw --key k2 --endpoint "$url" >"$work/put.txt"
check "put sends lines that are not UTF-8" grep -q 'sent: 2, failed: 0' "$work/put.txt"
check "the bytes arrive unchanged" python3 - "$url" <<'PY'
import boto3, sys
k = boto3.client("kinesis", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
it = k.get_shard_iterator(StreamName="raw", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
data = sorted(r["Data"] for r in k.get_records(ShardIterator=it)["Records"])
assert data == sorted([b"caf\xe9 \xff\xfe", b'{"k":"a"}']), data
PY
printf 'caf\xe9\n{"k":"a"}\n' | bounded 60 "$bin" put raw --key-field k --endpoint "$url" >"$work/putk.txt" 2>"$work/putk.err"
check "--key-field refuses the line that is not JSON, by number" grep -q 'line 1: not JSON' "$work/putk.err"
check "--key-field still sends the good line" grep -q 'sent: 1, failed: 1' "$work/putk.txt"
bounded 60 "$bin" put raw --endpoint "$url" <"$work" >/dev/null 2>"$work/putdir.txt"
check "a directory as standard input is an error" bash -c "test $? -eq 1 && grep -q 'standard input is a directory' '$work/putdir.txt'"

# Numbers at the edges of every numeric flag: an error or a result, never a crash (132 SIGILL
# from an overflow trap, 134 SIGABRT, 139 SIGSEGV).
crashes=()
for value in -1 0 1e300 inf nan 99999999999999999999 -9223372036854775808 9223372036854775807; do
    for args in "partitions $work/short.json --rate" "partitions $work/short.json --shards" "partitions $work/short.json --sample" \
        "runs --db $work/a.sqlite --limit" "bench producer --records" "bench producer --records 10 --size" \
        "bench producer --records 10 --shards" "bench producer --records 10 --batch" "bench producer --records 10 --concurrency" "put raw --endpoint http://127.0.0.1:1 --max-buffered-ms" \
        "put raw --endpoint http://127.0.0.1:1 --ttl-seconds" "streams create x --endpoint http://127.0.0.1:1 --shards" \
        "streams create x --endpoint http://127.0.0.1:1 --retention-hours"; do
        # shellcheck disable=SC2086
        bounded 20 "$bin" $args "$value" </dev/null >/dev/null 2>&1
        code=$?
        case $code in 132|133|134|139|124|137) crashes+=("$args $value: exit $code") ;; esac
    done
done
printf '%s\n' "${crashes[@]}"
check "no numeric flag crashes or hangs at the edges (${#crashes[@]} did)" test "${#crashes[@]}" -eq 0

# This round's probes: a remote crash before authentication, a data directory that is a file,
# a schedule of less than one event, and the command line's own edges.
start_serve --stream probe:1 --auth AKIDPROBE:probe-secret
probe_url=$serve_url
check "200,000 nested CBOR tags are refused without a signature, and serve lives on" python3 - "$probe_url" <<'PY'
import sys, urllib.request, urllib.error
body = b"\xc1" * 200_000 + b"\x00"
request = urllib.request.Request(sys.argv[1], data=body, method="POST", headers={
    "Content-Type": "application/x-amz-cbor-1.1", "X-Amz-Target": "Kinesis_20131202.PutRecord"})
try:
    urllib.request.urlopen(request, timeout=10)
    sys.exit("accepted")
except urllib.error.HTTPError as error:
    assert error.code == 400, error.code
# Still serving.
request = urllib.request.Request(sys.argv[1], data=b"{}", method="POST", headers={
    "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.ListStreams"})
try:
    urllib.request.urlopen(request, timeout=10)
except urllib.error.HTTPError as error:
    assert error.code in (400, 403), error.code
PY
touch "$work/not-a-dir"
bounded 30 "$bin" serve --port 0 --data-dir "$work/not-a-dir" >"$work/datadir.txt" 2>&1
code=$?
check "--data-dir naming a file exits 1 with a sentence (exit $code)" bash -c "test $code -eq 1 && grep -q 'is a file, not a directory' '$work/datadir.txt' && ! grep -qE 'NSCocoaErrorDomain|USAGE' '$work/datadir.txt'"
cat >"$work/tiny.json" <<JSON
{"name": "tiny", "stream": {"name": "tiny", "shards": 1},
 "load": {"executor": "constant-arrival-rate", "rate": 0.5, "duration": "1s"},
 "events": [{"type": "E", "partitionKey": {"strategy": "random"}, "template": {"id": "{{uuid}}"}}]}
JSON
bounded 30 "$bin" validate "$work/tiny.json" >"$work/tiny.txt" 2>&1
check "a schedule of less than one event is refused by validate (exit 2), with its path" bash -c "test $? -eq 2 && grep -q '\$.load: the schedule plans no events' '$work/tiny.txt'"
bounded 30 "$bin" --version >"$work/version.txt" 2>&1
check "kinesis-load --version prints a version" bash -c "test $? -eq 0 && grep -qE '^[0-9]+\.[0-9]+\.[0-9]+$' '$work/version.txt'"
bounded 30 "$bin" NOSUCH --help >"$work/nosuch.txt" 2>&1
code=$?
check "kinesis-load NOSUCH --help says the subcommand is unknown (exit $code)" bash -c "test $code -ne 0 && grep -q \"unknown subcommand 'NOSUCH'\" '$work/nosuch.txt'"
COLUMNS=200 bounded 30 "$bin" run --help >"$work/runhelp.txt" 2>&1
check "run --help has no line break in mid-sentence" grep -q '16 MiB) unless --endpoint or --aws is given' "$work/runhelp.txt"

# A restart of serve --data-dir on a full disk: the start-up compaction has no room, so serve
# keeps appending to the journal as it is (nothing lost, no journal.kinesis.new left behind).
small="$work/small-disk"
mkdir -p "$small"
if mount -t tmpfs -o size=3m tmpfs "$small" 2>"$work/mount.txt"; then
    start_serve --data-dir "$small/data" --stream s:1
    python3 - "$serve_url" <<'PY'
import boto3, sys
k = boto3.client("kinesis", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
for i in range(15):
    k.put_record(StreamName="s", Data=bytes([i]) * 100_000, PartitionKey=f"k{i}")
PY
    kill "${background[-1]}"; wait "${background[-1]}" 2>/dev/null
    dd if=/dev/zero of="$small/fill" bs=16k >/dev/null 2>&1
    log="$work/fulldisk-serve.txt"
    "$bin" serve --port 0 --data-dir "$small/data" >"$log" 2>&1 &
    background+=("$!")
    for _ in $(seq 1 100); do grep -q 'listening on' "$log" && break; sleep 0.1; done
    cat "$log"
    check "a full disk does not block the restart of serve --data-dir" grep -q 'listening on' "$log"
    check "every record is restored on the full disk" grep -q '1 stream, 15 records restored' "$log"
    check "serve says it could not compact" grep -q 'no room to compact the journal' "$log"
    check "no journal.kinesis.new is left behind" test ! -e "$small/data/journal.kinesis.new"
    kill "${background[-1]}"; wait "${background[-1]}" 2>/dev/null
    umount "$small"
else
    check "a tmpfs for the full-disk check could be mounted ($(cat "$work/mount.txt"))" false
fi

# A run that fails after it started (its consumers never get an iterator) still writes the
# reports of what ran, then exits 1 with the reason.
start_serve --stream rf:1 --faults fail=GetShardIterator:100000:internal
cat >"$work/readfail.json" <<JSON
{"name": "read-fails", "stream": {"name": "rf", "shards": 1},
 "load": {"executor": "constant-arrival-rate", "rate": 50, "duration": "5s"},
 "events": [{"type": "E", "partitionKey": {"strategy": "random"}, "template": {"id": "{{uuid}}"}}],
 "consume": {"consumers": 1, "verify": true, "from": "latest"}}
JSON
bounded 120 "$bin" run "$work/readfail.json" --endpoint "$serve_url" --db "$work/readfail.sqlite" --reports "$work/readfail-reports" --quiet >"$work/readfail.txt" 2>&1
code=$?
check "a run whose reads fail exits 1 and says why (exit $code)" bash -c "test $code -eq 1 && grep -q 'did not start reading every shard' '$work/readfail.txt'"
check "its reports are written all the same" bash -c "ls '$work'/readfail-reports/*/summary.json '$work'/readfail-reports/*/junit.xml >/dev/null && grep -q 'reports: ' '$work/readfail.txt'"
check "zero end-to-end samples are said, not shown as 0 ms" grep -q 'end to end: no samples' "$work/readfail.txt"

# One status: the report header says what the database says.
check "the report header and the database agree on the status" \
    bash -c "grep -q 'status passed' '$a/summary.md' && test \"\$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT status FROM runs WHERE id=1\").fetchone()[0])' '$work/a.sqlite')\" = passed"

echo "hostile smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
