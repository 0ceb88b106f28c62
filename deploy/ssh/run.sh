#!/usr/bin/env bash
# A load test across hosts a team already has, with plain ssh and scp: one segment of the run
# per host, every host starting its schedule at the same instant, the SQLite files brought
# back and merged into one run, judged and reported here.
#
#   deploy/ssh/run.sh SCENARIO HOST [HOST...]
#
# Environment:
#   KINESIS_LOAD  the binary copied to each host (default: .build-static/release/kinesis-load,
#                 from scripts/static-binary.sh: it needs no Swift runtime on the hosts)
#   RUN_ARGS      what each worker's `run` gets besides its segment (default when unset: --aws; empty: the embedded engine; for an
#                 emulator: --endpoint http://HOST:4567)
#   START_IN      seconds from now to the shared --start-at (default 30: time to copy and connect)
#   RESULTS       where the files come back and the merged run goes (default: results)
#   REMOTE_DIR    the folder on each host (default: /tmp/kinesis-load; each segment gets its own)
#   SSH, SCP      the commands (default: ssh, scp; options go in ~/.ssh/config)
# Exit code: merge's (0 passed, 99 a threshold failed, 2 the segments cannot be merged), or 1
# when a worker failed (its output is printed).
set -uo pipefail
[ $# -ge 2 ] || { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 64; }
scenario=$1
shift
hosts=("$@")
n=${#hosts[@]}
binary=${KINESIS_LOAD:-.build-static/release/kinesis-load}
run_args=${RUN_ARGS---aws}
results=${RESULTS:-results}
remote=${REMOTE_DIR:-/tmp/kinesis-load}
ssh_cmd=${SSH:-ssh}
scp_cmd=${SCP:-scp}
[ -x "$binary" ] || { echo "run.sh: $binary is not an executable (build it with scripts/static-binary.sh, or set KINESIS_LOAD)" >&2; exit 1; }
[ -f "$scenario" ] || { echo "run.sh: $scenario: no such scenario file" >&2; exit 1; }
start_at=$(date -u -d "+${START_IN:-30} seconds" +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$results"
echo "==> $n workers, start at $start_at"
pids=()
for i in "${!hosts[@]}"; do
    host=${hosts[$i]}
    dir="$remote/segment-$i"
    (
        $ssh_cmd "$host" "mkdir -p $dir" &&
            $scp_cmd "$binary" "$host:$dir/kinesis-load" &&
            $scp_cmd "$scenario" "$host:$dir/scenario.json" &&
            $ssh_cmd "$host" "cd $dir && ./kinesis-load run scenario.json --segment $i/$n --start-at $start_at --db segment-$i.sqlite --reports reports --quiet $run_args" &&
            $scp_cmd "$host:$dir/segment-$i.sqlite" "$results/segment-$i.sqlite"
    ) >"$results/worker-$i.log" 2>&1 &
    pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then
        echo "run.sh: worker $i on ${hosts[$i]} failed:" >&2
        sed 's/^/    /' "$results/worker-$i.log" >&2
        failed=1
    fi
done
[ $failed -eq 0 ] || exit 1
files=()
for i in "${!hosts[@]}"; do files+=("$results/segment-$i.sqlite"); done
exec "$binary" merge "${files[@]}" --db "$results/merged.sqlite" --reports "$results/reports"
