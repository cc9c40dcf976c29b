#!/usr/bin/env bash
# Cross-checks the Consul KV test double with an independent client (py-consul 1.8.0 from
# PyPI, in a venv): builds the `consul-kv-double` binary and runs consul_double_check.py
# against it. For .ci/run; needs python3 with venv (Debian: python3-venv) and PyPI access.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=${CONSUL_CHECK_VENV:-/tmp/vpp-agent-py-consul}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || {
    echo "consul-double-check: cannot create a venv; install the Debian package python3-venv" >&2
    exit 1
  }
fi
"$venv/bin/python" -c 'import consul' 2>/dev/null || "$venv/bin/pip" install -q py-consul==1.8.0

cargo build -q -p vpp-agent-connectors --features testkit --bin consul-kv-double
"$venv/bin/python" connectors/tests/consul_double_check.py "${CARGO_TARGET_DIR:-target}/debug/consul-kv-double"
