#!/usr/bin/env bash
# Builds kinesis-load as the Dockerfile's build stage does (release, --static-swift-stdlib) and
# checks with ldd that it needs no Swift runtime library, so the slim runtime image (Debian with
# ca-certificates) can run it. A release build: about 15 minutes cold. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-static
swift build -c release --product kinesis-load --static-swift-stdlib --scratch-path "$scratch" 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]|warning:|CMakeLists' || true
bin="$scratch/release/kinesis-load"
[ -x "$bin" ] || { echo "static-binary: the build did not produce $bin" >&2; exit 1; }
echo "==> $bin: $(du -h "$bin" | cut -f1)"
ldd "$bin" | sed 's/^/    /'
if ldd "$bin" | grep -Ei 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|libicu' >&2; then
    echo "static-binary: FAIL: the binary still needs the Swift runtime libraries above" >&2
    exit 1
fi
"$bin" --version >/dev/null 2>&1 || "$bin" --help >/dev/null
echo "ok: $bin needs no Swift runtime library (only the system's: $(ldd "$bin" | awk '{print $1}' | tr '\n' ' '))"
