#!/usr/bin/env bash
# Cross-checks vpp-sim with the official Python client vpp-papi, for every shipped release:
# builds the vpp-sim binary, installs vpp-papi into a venv (target/papi-venv, or $PAPI_VENV)
# when missing, starts the simulator per release and runs papi_check.py against it with the
# release's .api.json files (binapi/api/<release>); 25.06 also runs papi's bootstrap mode
# (get_api_json); stats_check.py reads each release's stats segment with vpp_papi.vpp_stats.
# Exits non-zero on the first failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/../../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
venv=${PAPI_VENV:-$target/papi-venv}

if ! "$venv/bin/python" -c 'import vpp_papi' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet vpp-papi
fi
(cd "$root" && cargo build --quiet -p vpp-sim --bin vpp-sim)
bin=$target/debug/vpp-sim

work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

for release in 21.01 23.06 25.06; do
    sock=$work/$release.sock
    "$bin" --socket "$sock" --vpp-version "$release" 2>"$work/$release.log" &
    pid=$!
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
    [ -S "$sock" ] || { echo "vpp-sim $release did not listen"; cat "$work/$release.log"; exit 1; }
    echo "== vpp-papi against vpp-sim $release"
    "$venv/bin/python" "$root/tests/vpp-sim/papi/papi_check.py" --socket "$sock" --apidir "$root/binapi/api/$release"
    if [ "$release" = 25.06 ]; then
        "$venv/bin/python" "$root/tests/vpp-sim/papi/papi_check.py" --socket "$sock" --bootstrap
    fi
    echo "== vpp_papi.vpp_stats against vpp-sim $release's stats segment"
    old=; [ "$release" = 21.01 ] && old=--old-layout
    "$venv/bin/python" "$root/tests/vpp-sim/papi/stats_check.py" --vpp-sim "$bin" --socket "$sock" --stats "$sock.stats" $old
    kill "$pid"; wait "$pid" 2>/dev/null || true
    pid=
done
echo "vpp-papi cross-check passed"
