#!/usr/bin/env bash
# Runs every test: installs what they need, starts moto_server on a free port of 127.0.0.1,
# generates botocore SigV4 vectors with the installed botocore (into a temporary file: the
# tracked fixture is never rewritten), runs the Swift tests,
# the boto3 and AWS CLI tests against `kinesis-load serve`, checks the CLI end to end
# against moto, and opens an HTML report in headless Chromium. Ends with one line: "tests: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_system_deps || exit 1
ensure_python_deps || exit 1
trap stop_moto EXIT
start_moto || exit 1

failed_steps=0
swift_passed=0; swift_failed=0; py_passed=0; py_failed=0; cli_passed=0; cli_failed=0

echo "==> botocore SigV4 vectors"
BOTOCORE_SIGV4_VECTORS=$(mktemp -t botocore-sigv4.XXXXXX.json)
export BOTOCORE_SIGV4_VECTORS
python3 scripts/gen_botocore_sigv4.py "$BOTOCORE_SIGV4_VECTORS" || failed_steps=$((failed_steps + 1))

echo "==> the generated wire model: regenerated from scripts/model and compared with what is committed"
if python3 scripts/generate_model.py --check; then
    echo "ok: generated wire model"; cli_passed=$((cli_passed + 1))
else
    cli_failed=$((cli_failed + 1)); failed_steps=$((failed_steps + 1))
fi

echo "==> swift build"
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Linking|Write|Wrapping|Applying)'
if [ "${PIPESTATUS[0]}" -ne 0 ]; then echo "build failed"; echo "tests: 0 passed, 1 failed"; exit 1; fi
KINESIS_LOAD_BIN="$(swift build --show-bin-path)/kinesis-load"
export KINESIS_LOAD_BIN

echo "==> the module graph: what each target imports against what it declares"
modlog=$(mktemp)
python3 scripts/check_modules.py 2>&1 | tee "$modlog"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed_steps=$((failed_steps + 1))
cli_passed=$((cli_passed + $(grep -c '^module graph: 0 problem' "$modlog" || true)))
cli_failed=$((cli_failed + $(grep -c '^FAILED: ' "$modlog" || true)))

echo "==> swift test"
log=$(mktemp)
# One test at a time: many tests measure time (failover, taking cycles, latency faults, the
# Producer under reshards), and 290 of them in parallel on two cores starve each other's
# tasks for tens of seconds (3.5 min serial here, about 1.5 min in parallel).
swift test --skip-build --no-parallel 2>&1 | tee "$log" | grep -vE '^\[[0-9]+/[0-9]+\]'
[ "${PIPESTATUS[0]}" -eq 0 ] || failed_steps=$((failed_steps + 1))
swift_passed=$(grep -cE '^✔ Test .*(passed after)' "$log" || true)
swift_failed=$(grep -cE '^✘ Test .*(failed after)' "$log" || true)

echo "==> boto3 and AWS CLI against kinesis-load serve"
pylog=$(mktemp)
python3 -m pytest -q Tests/python 2>&1 | tee "$pylog"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed_steps=$((failed_steps + 1))
py_passed=$(grep -oE '[0-9]+ passed' "$pylog" | tail -1 | grep -oE '[0-9]+' || echo 0)
py_failed=$(grep -oE '[0-9]+ failed' "$pylog" | tail -1 | grep -oE '[0-9]+' || echo 0)

echo "==> kinesis-load streams against moto"
clilog=$(mktemp)
bash scripts/cli-smoke.sh "$MOTO_ENDPOINT" 2>&1 | tee "$clilog"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed_steps=$((failed_steps + 1))
cli_passed=$((cli_passed + $(grep -c '^ok: ' "$clilog" || true)))
cli_failed=$((cli_failed + $(grep -c '^FAILED: ' "$clilog" || true)))

echo "==> kinesis-load run, validate, report, runs, partitions"
loadlog=$(mktemp)
bash scripts/load-smoke.sh "$MOTO_ENDPOINT" 2>&1 | tee "$loadlog"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed_steps=$((failed_steps + 1))
cli_passed=$((cli_passed + $(grep -c '^ok: ' "$loadlog" || true)))
cli_failed=$((cli_failed + $(grep -c '^FAILED: ' "$loadlog" || true)))

echo "==> the read side of run: verification, faults, lag, the HTML report in Chromium"
readlog=$(mktemp)
bash scripts/readback-smoke.sh "$MOTO_ENDPOINT" 2>&1 | tee "$readlog"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed_steps=$((failed_steps + 1))
cli_passed=$((cli_passed + $(grep -c '^ok: ' "$readlog" || true)))
cli_failed=$((cli_failed + $(grep -c '^FAILED: ' "$readlog" || true)))

echo "==> what a careless or hostile user tries: signals, kill -9, bad numbers, bad bytes, damaged stores"
hostilelog=$(mktemp)
bash scripts/hostile-smoke.sh 2>&1 | tee "$hostilelog"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed_steps=$((failed_steps + 1))
cli_passed=$((cli_passed + $(grep -c '^ok: ' "$hostilelog" || true)))
cli_failed=$((cli_failed + $(grep -c '^FAILED: ' "$hostilelog" || true)))

passed=$((swift_passed + py_passed + cli_passed))
failed=$((swift_failed + py_failed + cli_failed))
if [ "$failed_steps" -gt 0 ] && [ "$failed" -eq 0 ]; then failed=$failed_steps; fi
echo "swift: $swift_passed passed, $swift_failed failed; python: $py_passed passed, $py_failed failed; cli: $cli_passed passed, $cli_failed failed"
echo "tests: $passed passed, $failed failed"
[ "$failed_steps" -eq 0 ]
