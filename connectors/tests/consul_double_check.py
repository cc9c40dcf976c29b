#!/usr/bin/env python3
"""Cross-checks the Consul KV *test double* (`consul-kv-double`, not Consul) with an
independent client, py-consul from PyPI, so the double cannot drift into agreeing only with
our own Rust client.

Usage: consul_double_check.py PATH/TO/consul-kv-double
Needs: pip install py-consul==1.8.0
Prints one line per check and a final 'N passed, N failed'; exits 1 on any failure.
It does not test the agent's Consul backend (the Rust compliance suite does that).
"""

import subprocess
import sys
import threading
import time

import consul

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


@check
def put_and_get_keep_raw_bytes(c):
    assert c.kv.put("vnf-agent/vpp1/config/tap1", b'{"name":"tap1"}') is True
    assert c.kv.put("vnf-agent/vpp1/config/bin", b"\xff\x00\x01") is True
    index, entry = c.kv.get("vnf-agent/vpp1/config/tap1")
    assert int(index) > 0, index
    assert entry["Key"] == "vnf-agent/vpp1/config/tap1", entry
    assert entry["Value"] == b'{"name":"tap1"}', entry
    _, entry = c.kv.get("vnf-agent/vpp1/config/bin")
    assert entry["Value"] == b"\xff\x00\x01", entry


@check
def recurse_presence_means_true_and_absence_means_exact(c):
    c.kv.put("vnf-agent/vpp1/config/tap10", b"10")
    _, one = c.kv.get("vnf-agent/vpp1/config/tap1")
    assert one["Key"] == "vnf-agent/vpp1/config/tap1", one
    _, many = c.kv.get("vnf-agent/vpp1/config/tap1", recurse=True)
    assert [e["Key"] for e in many] == [
        "vnf-agent/vpp1/config/tap1",
        "vnf-agent/vpp1/config/tap10",
    ], many


@check
def missing_key_gives_none_with_an_index(c):
    index, value = c.kv.get("vnf-agent/none/such")
    assert value is None
    assert isinstance(index, str) or isinstance(index, int), index
    assert int(index) > 0, index


@check
def empty_value_is_null(c):
    c.kv.put("vnf-agent/vpp1/empty", b"")
    _, entry = c.kv.get("vnf-agent/vpp1/empty")
    assert entry["Value"] is None, entry


@check
def flags_are_kept(c):
    c.kv.put("vnf-agent/vpp1/flagged", b"x", flags=42)
    _, entry = c.kv.get("vnf-agent/vpp1/flagged")
    assert entry["Flags"] == 42, entry


@check
def cas_guards_put_and_delete(c):
    key = "vnf-agent/vpp1/cas"
    assert c.kv.put(key, b"1", cas=0) is True
    assert c.kv.put(key, b"2", cas=0) is False
    _, entry = c.kv.get(key)
    assert c.kv.put(key, b"3", cas=entry["ModifyIndex"] + 100) is False
    assert c.kv.put(key, b"3", cas=entry["ModifyIndex"]) is True
    _, entry = c.kv.get(key)
    assert c.kv.delete(key, cas=entry["ModifyIndex"] + 100) is False
    assert c.kv.delete(key, cas=entry["ModifyIndex"]) is True
    assert c.kv.get(key)[1] is None


@check
def blocking_query_returns_at_wait_without_change(c):
    index, _ = c.kv.get("vnf-agent/vpp1/config/", recurse=True)
    start = time.monotonic()
    index2, _ = c.kv.get("vnf-agent/vpp1/config/", recurse=True, index=index, wait="1s")
    elapsed = time.monotonic() - start
    assert int(index2) == int(index), (index, index2)
    assert 0.9 <= elapsed < 5, elapsed


@check
def blocking_query_wakes_on_a_put(c):
    index, _ = c.kv.get("vnf-agent/vpp1/config/", recurse=True)
    result = {}

    def wait():
        start = time.monotonic()
        result["reply"] = c.kv.get("vnf-agent/vpp1/config/", recurse=True, index=index, wait="10s")
        result["elapsed"] = time.monotonic() - start

    t = threading.Thread(target=wait)
    t.start()
    c.kv.put("vnf-agent/vpp1/config/tap2", b"2")
    t.join(timeout=15)
    assert "reply" in result, "the blocking query never returned"
    index2, entries = result["reply"]
    assert int(index2) > int(index), (index, index2)
    assert result["elapsed"] < 9, result["elapsed"]
    assert "vnf-agent/vpp1/config/tap2" in [e["Key"] for e in entries]


@check
def delete_changes_the_prefix_index(c):
    index, _ = c.kv.get("vnf-agent/vpp1/config/", recurse=True)
    c.kv.delete("vnf-agent/vpp1/config/tap2")
    index2, _ = c.kv.get("vnf-agent/vpp1/config/", recurse=True, index=index, wait="5s")
    assert int(index2) > int(index), (index, index2)


@check
def recursive_delete_removes_the_prefix_only(c):
    c.kv.put("vnf-agent/vpp1/configx", b"outside")
    assert c.kv.delete("vnf-agent/vpp1/config/", recurse=True) is True
    index, value = c.kv.get("vnf-agent/vpp1/config/", recurse=True)
    assert value is None, value
    assert int(index) > 0
    assert c.kv.get("vnf-agent/vpp1/configx")[1]["Value"] == b"outside"


@check
def values_over_512_kib_are_refused(c):
    try:
        c.kv.put("vnf-agent/vpp1/big", b"x" * (512 * 1024 + 1))
    except consul.ConsulException as e:
        assert "413" in str(e), e
    else:
        raise AssertionError("a 512 KiB + 1 value was accepted")
    assert c.kv.put("vnf-agent/vpp1/big", b"x" * (512 * 1024)) is True


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    proc = subprocess.Popen([sys.argv[1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            print(f"the double did not start: {line!r}")
            return 1
        host, port = line.removeprefix("listening on ").rsplit(":", 1)
        c = consul.Consul(host=host, port=int(port))
        passed = failed = 0
        for fn in CHECKS:
            try:
                fn(c)
            except Exception as e:  # noqa: BLE001 - report every failing check
                failed += 1
                print(f"FAIL {fn.__name__}: {e!r}")
            else:
                passed += 1
                print(f"ok   {fn.__name__}")
        print(f"{passed} passed, {failed} failed")
        return 1 if failed else 0
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    sys.exit(main())
