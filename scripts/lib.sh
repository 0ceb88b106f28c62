# Shared helpers for the scripts: Python dependencies and a moto_server on 127.0.0.1.

ensure_system_deps() {
    # GRDB links the system SQLite: its headers come from Debian's libsqlite3-dev. The HTML
    # report is checked in a real browser: Debian's chromium, run headless.
    local missing=()
    [ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
    command -v chromium >/dev/null || missing+=(chromium)
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "==> installing ${missing[*]} with apt-get"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" || return 1
    fi
}

ensure_python_deps() {
    # Everything the tests need from PyPI; pip is quiet when all is present.
    if ! python3 -c 'import moto, flask, flask_cors, boto3, botocore, pytest, aws_kinesis_agg, jsonschema, cbor2, httpx, h2, cryptography, yaml, prometheus_client, websocket' 2>/dev/null || ! command -v aws >/dev/null; then
        echo "==> installing moto[server], boto3, awscli, pytest and aws_kinesis_agg, jsonschema, cbor2, httpx, cryptography, pyyaml, prometheus_client and websocket-client with pip"
        python3 -m pip install --quiet 'moto[server]' boto3 awscli pytest aws_kinesis_agg jsonschema cbor2 'httpx[http2]' cryptography pyyaml prometheus_client websocket-client
    fi
}

# Builds kinesis-load in release (a scratch folder of its own, kept apart from the debug build);
# sets bin to it. For the benchmarks, never for CI.
release_binary() {
    swift build -c release --product kinesis-load --scratch-path .build-release 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]|warning:|CMakeLists' || true
    bin=.build-release/release/kinesis-load
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts moto_server on a free port of 127.0.0.1; sets MOTO_PID and MOTO_ENDPOINT.
start_moto() {
    local port log
    port=$(free_port)
    log=${MOTO_LOG:-$(mktemp -t moto.XXXXXX.log)}
    python3 -m moto.server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    MOTO_PID=$!
    MOTO_ENDPOINT="http://127.0.0.1:$port"
    export MOTO_ENDPOINT
    # Poll until it answers (at most 30 s); fail with its log if it dies or never answers.
    for _ in $(seq 1 300); do
        if python3 -c "import urllib.request,sys; urllib.request.urlopen('$MOTO_ENDPOINT/moto-api/', timeout=1)" 2>/dev/null; then
            echo "==> moto_server on $MOTO_ENDPOINT (pid $MOTO_PID)"
            return 0
        fi
        if ! kill -0 "$MOTO_PID" 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "moto_server did not start; its log:" >&2
    cat "$log" >&2
    return 1
}

stop_moto() {
    if [ -n "${MOTO_PID:-}" ]; then
        kill "$MOTO_PID" 2>/dev/null || true
        wait "$MOTO_PID" 2>/dev/null || true
        MOTO_PID=
    fi
}

# The common start of the CLI check scripts: a work folder, background processes killed and the
# folder removed on exit, and the helpers below. Sets work, background, passed, failed.
smoke_init() {
    work=$(mktemp -d)
    background=()
    passed=0
    failed=0
    trap 'for pid in "${background[@]}"; do kill -9 "$pid" 2>/dev/null; done; rm -rf "$work"' EXIT
}
# Runs a command with a time limit (seconds), so a hung command fails its check instead of CI.
bounded() { local limit=$1; shift; timeout -k 5 "$limit" "$@"; }
# The report folder a run printed ("reports: FOLDER/summary.md, ..."), so run numbers are not guessed.
folder_of() { sed -n 's|^reports: \(.*\)/summary\.md,.*|\1|p' "$1" | tail -1; }
# One value from a SQLite file, with Python's sqlite3 (no sqlite3 command needed); empty if no row.
sql() { python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone(); print(r[0] if r else "")' "$1" "$2"; }
# Starts `kinesis-load serve --port 0 ARGS...` in the background (killed on exit) and waits until
# it listens; sets serve_url. Needs bin, work and background (smoke_init).
start_serve() {
    local log
    log=$(mktemp -p "$work" serve.XXXXXX.txt)
    "$bin" serve --port 0 "$@" >"$log" 2>&1 &
    background+=("$!")
    for _ in $(seq 1 100); do grep -q 'listening on' "$log" && break; sleep 0.1; done
    serve_url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$log" | head -1)
    [ -n "$serve_url" ] || { echo "serve did not start; its log:" >&2; cat "$log" >&2; return 1; }
}
check() {
    local name=$1; shift
    if "$@"; then passed=$((passed + 1)); echo "ok: $name"; else failed=$((failed + 1)); echo "FAILED: $name"; fi
}

# Writes $work/NAME.json, the load runner's benchmark scenario (8 shards, aggregated, limits
# for the runner, one event type keyed by 1,000 users) with the given load section.
bench_scenario() { # name, load JSON
    cat >"$work/$1.json" <<JSON
{"name": "$1", "seed": 1, "stream": {"name": "bench", "shards": 8},
 "load": $2,
 "publisher": {"mode": "aggregated", "maxBufferedTime": "100ms", "rateLimitPercent": null, "maxConcurrentRequests": 16},
 "keys": {"users": {"count": 1000}},
 "events": [{"type": "E", "partitionKey": {"strategy": "key", "pool": "users"},
             "template": {"id": "{{seq}}", "user": "{{key users}}", "v": "{{int 1 1000}}"}}]}
JSON
}
