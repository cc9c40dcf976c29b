#!/usr/bin/env python3
"""Cross-check vpp-sim with the official Python client vpp-papi (PyPI).

Usage: papi_check.py --socket PATH --apidir DIR [--bootstrap]

Connects with the release's shipped .api.json files (or, with --bootstrap, with papi's own
memclnt and get_api_json), then: sw_interface_dump, create_loopback, sw_interface_dump
again, cli_inband("show interface"), disconnect. Exits non-zero with a message on any
mismatch. It checks wire compatibility only; VPP semantics are tested in Rust.
"""

import argparse
import sys

from vpp_papi import VPPApiClient


def fail(msg):
    print(f"papi check failed: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--apidir", default=None)
    ap.add_argument("--bootstrap", action="store_true")
    args = ap.parse_args()

    if args.bootstrap:
        vpp = VPPApiClient(server_address=args.socket, bootstrapapi=True, read_timeout=5)
    else:
        vpp = VPPApiClient(apidir=args.apidir, server_address=args.socket, read_timeout=5)
    rv = vpp.connect("papi-check")
    if rv != 0:
        fail(f"connect returned {rv}")

    version = vpp.api.show_version()
    if version.retval != 0 or version.program != "vpe":
        fail(f"show_version: {version}")

    before = vpp.api.sw_interface_dump()
    names = [d.interface_name for d in before]
    if "local0" not in names:
        fail(f"sw_interface_dump has no local0: {names}")

    created = vpp.api.create_loopback(mac_address="02:00:00:00:00:01")
    if created.retval != 0:
        fail(f"create_loopback: {created}")

    after = vpp.api.sw_interface_dump()
    loops = [d for d in after if d.sw_if_index == created.sw_if_index]
    if len(loops) != 1 or not loops[0].interface_name.startswith("loop"):
        fail(f"created loopback not dumped: {after}")
    if str(loops[0].l2_address) != "02:00:00:00:00:01":
        fail(f"loopback mac: {loops[0].l2_address}")

    cli = vpp.api.cli_inband(cmd="show interface")
    if cli.retval != 0 or loops[0].interface_name not in cli.reply:
        fail(f"cli_inband: {cli}")

    ping = vpp.api.control_ping()
    if ping.retval != 0 or ping.client_index == 0:
        fail(f"control_ping: {ping}")

    rv = vpp.disconnect()
    if getattr(rv, "response", None) != 1:
        fail(f"disconnect returned {rv}, want sockclnt_delete_reply response 1")

    print(
        f"papi ok: vpp {version.version}, {len(after)} interfaces, "
        f"created {loops[0].interface_name} (sw_if_index {created.sw_if_index})"
    )


if __name__ == "__main__":
    main()
