#!/usr/bin/env bash
# What the CloudWatch metrics backend costs the Producer: records per second (release build,
# in-process engine, aggregated, per-key order, 100-byte records, 1,000 keys, 4 shards) with
# metrics off, on (PutMetricData to moto_server every second) and on against a CloudWatch that
# refuses every connection, alternated three times in one run. Not part of CI.
#
#   bash Benchmarks/cloudwatch.sh [records]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
records=${1:-1000000}
release_binary
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
start_moto
trap 'kill $MOTO_PID 2>/dev/null || true' EXIT
refused=$(free_port)

: > /tmp/bench-cloudwatch.jsonl
for round in 1 2 3; do
    for mode in off moto refused; do
        case $mode in
            off) args=() ;;
            moto) args=(--cloudwatch-metrics Bench/Producer --cloudwatch-interval 1s); export AWS_ENDPOINT_URL_CLOUDWATCH="$MOTO_ENDPOINT" ;;
            refused) args=(--cloudwatch-metrics Bench/Producer --cloudwatch-interval 1s); export AWS_ENDPOINT_URL_CLOUDWATCH="http://127.0.0.1:$refused" ;;
        esac
        line=$("$bin" bench producer --records "$records" --json "${args[@]}" 2>/tmp/bench-cloudwatch-$mode.err)
        echo "{\"round\":$round,\"mode\":\"$mode\",\"result\":$line,\"cloudwatch\":\"$(grep -o 'cloudwatch metrics.*' /tmp/bench-cloudwatch-$mode.err | head -1 | tr -d '"')\"}" | tee -a /tmp/bench-cloudwatch.jsonl
        unset AWS_ENDPOINT_URL_CLOUDWATCH
    done
done

python3 - <<'PY'
import json, statistics
rows = [json.loads(l) for l in open("/tmp/bench-cloudwatch.jsonl")]
rate = {m: [r["result"]["recordsPerSecond"] for r in rows if r["mode"] == m] for m in ("off", "moto", "refused")}
median = {m: statistics.median(v) for m, v in rate.items()}
for m in ("off", "moto", "refused"):
    print(f"{m:8} records/s: {', '.join(f'{v:,}' for v in rate[m])} (median {median[m]:,.0f}; {median[m] / median['off']:.3f} of off)")
for m in ("moto", "refused"):
    print(f"{m:8} backend: {next(r['cloudwatch'] for r in rows if r['mode'] == m)}")
PY
