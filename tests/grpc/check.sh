#!/usr/bin/env bash
# Cross-checks the gRPC ConfiguratorService with Python grpcio: installs grpcio and
# grpcio-tools into a venv (target/grpc-venv, or $GRPC_VENV) when missing, generates Python
# stubs from messages/proto into a temp dir, starts vpp-sim and vpp-agent (an empty fileDB
# store, gRPC on a free port) and runs check.py against them. Exits non-zero on failure.
# `check.sh --bench N` runs bench.py (N calls each) against release builds instead.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
venv=${GRPC_VENV:-$target/grpc-venv}
bench=
profile=debug
if [ "${1:-}" = --bench ]; then
    bench=${2:-500}
    profile=release
fi

if ! "$venv/bin/python" -c 'import grpc, grpc_tools' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet grpcio grpcio-tools
fi
release=(); [ "$profile" = release ] && release=(--release)
(cd "$root" && cargo build --quiet "${release[@]}" -p vpp-sim --bin vpp-sim && cargo build --quiet "${release[@]}" -p vpp-agent-actors --bin vpp-agent)

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Stubs for every .proto of the agent (imports resolve as Python packages).
mkdir -p "$work/stubs" "$work/data"
(cd "$root/messages/proto" && find ligato -name '*.proto' -print0 | xargs -0 \
    "$venv/bin/python" -m grpc_tools.protoc -I . --python_out="$work/stubs" --grpc_python_out="$work/stubs")

sock=$work/api.sock
"$target/$profile/vpp-sim" --socket "$sock" --vpp-version 23.06 2>"$work/sim.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { echo "vpp-sim did not listen"; cat "$work/sim.log"; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
echo "binapi-socket-path: $sock" >"$work/govpp.conf"
echo "configuration-paths: [\"$work/data\"]" >"$work/filedb.conf"
echo "disabled: true" >"$work/linux-ifplugin.conf"
(cd "$work" && exec env -i PATH="$PATH" RUST_LOG=warn "$target/$profile/vpp-agent" --config-dir "$work" \
    --govpp-config govpp.conf --filedb-config filedb.conf --linux-ifplugin-config linux-ifplugin.conf \
    --microservice-label grpccheck$$ --grpc-port "$port" >"$work/agent.out" 2>"$work/agent.log") &
pids+=($!)

if [ -n "$bench" ]; then
    run=("$root/tests/grpc/bench.py" -n "$bench")
else
    run=("$root/tests/grpc/check.py")
fi
if ! PYTHONPATH="$work/stubs" "$venv/bin/python" "${run[@]}" --endpoint "127.0.0.1:$port"; then
    echo "--- agent stdout ---"; cat "$work/agent.out"
    echo "--- agent stderr ---"; cat "$work/agent.log"
    exit 1
fi
