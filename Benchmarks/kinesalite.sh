#!/usr/bin/env bash
# How close `kinesis-load serve` answers to AWS: kinesalite's test suite, whose messages were
# recorded against AWS, run against our endpoint (Benchmarks/kinesalite/run.js says how).
#
#   Benchmarks/kinesalite.sh KINESALITE_CHECKOUT     (a clone of github.com/mhart/kinesalite)
#
# Prints each failing case, then "kinesalite cases: P of N non-stale passed (X%)". The cases
# in Benchmarks/kinesalite/stale.txt are answers AWS has since changed; they are counted apart.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=${1:?usage: Benchmarks/kinesalite.sh KINESALITE_CHECKOUT}
[ -f "$checkout/test/helpers.js" ] || { echo "$checkout has no test/helpers.js: not a kinesalite checkout" >&2; exit 64; }
command -v node >/dev/null || { echo "node is needed (apt-get install nodejs)" >&2; exit 69; }
if [ ! -d /usr/share/nodejs/should ] || [ ! -d /usr/share/nodejs/aws4 ]; then
    echo "==> installing kinesalite's test libraries from Debian" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q node-should node-aws4 node-async node-once node-bignumber node-cbor >&2
fi
swift build --product kinesis-load >&2
exec node Benchmarks/kinesalite/run.js "$checkout" "$(swift build --show-bin-path)/kinesis-load" Benchmarks/kinesalite/stale.txt
