#!/usr/bin/env python3
"""Cross-checks vpp-sim's stats segment with VPP's own python stats client.

vpp_papi.vpp_stats.VPPStats connects to the stats socket, receives the segment's fd by
SCM_RIGHTS, mmaps it and reads it with VPP's optimistic locking. The check drives the
simulator through its CLI (vpp-sim ctl): creates a loopback, sends simulated traffic
(`test traffic`, simulator-only), deletes it, and checks names, combined counters, the
per-interface symlinks, the epoch protocol and the heartbeat as the client sees them.

--old-layout (21.01): the name vector has the pre-22.02 type number, which today's client
does not read, and there are no symlinks; only counters are checked.
"""

import argparse
import subprocess
import sys
import time

from vpp_papi.vpp_stats import VPPStats


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vpp-sim", required=True, help="the vpp-sim binary (for ctl)")
    p.add_argument("--socket", required=True, help="the API socket")
    p.add_argument("--stats", required=True, help="the stats socket")
    p.add_argument("--old-layout", action="store_true")
    args = p.parse_args()

    def ctl(cmd):
        out = subprocess.run(
            [args.vpp_sim, "ctl", "--socket", args.socket] + cmd.split(),
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def check(cond, what):
        if not cond:
            print("FAIL:", what)
            sys.exit(1)
        print("ok:", what)

    stats = VPPStats(socketname=args.stats, timeout=5)
    stats.connect()
    check(stats.version == 2, "segment version 2")
    before = stats["/if/names"] if not args.old_layout else None

    name = ctl("create loopback interface")
    line = [l.split() for l in ctl("show interface " + name).splitlines()]
    idx = int([w for w in line if w and w[0] == name][0][1])
    check(name.startswith("loop"), "loopback created: %s (sw_if_index %d)" % (name, idx))
    epoch = stats.epoch
    ctl("test traffic %s 10 1000" % name)
    rx = stats["/if/rx"]
    check(rx[:, idx].sum_packets() == 10, "rx packets of the loopback")
    check(rx[:, idx].sum_octets() == 1000, "rx bytes of the loopback")
    check(stats["/if/tx"][0][idx]["packets"] == 10, "tx packets on thread 0")
    check(stats["/if/drops"][:, idx].sum() == 0, "drops (simple counter)")
    check(stats.epoch == epoch, "counters move without a new epoch")

    ctl("test traffic %s 5 500 rx" % name)
    check(stats["/if/rx"][:, idx].sum_packets() == 15, "rx counter moved")
    check(stats["/if/tx"][:, idx].sum_octets() == 1000, "tx counter unchanged")
    if not args.old_layout:
        check(stats["/if/names"] == before + [name], "names after create")
        link = stats["/interfaces/%s/rx" % name]
        check(link.sum_packets() == 15, "symlink /interfaces/%s/rx" % name)

    ctl("delete loopback interface intfc " + name)
    if not args.old_layout:
        check(stats["/if/names"] == before, "names after delete")
        gone = "/interfaces/%s/rx" % name not in stats.ls(["/interfaces/"])
        check(gone, "symlinks removed")
    check(stats.epoch > epoch, "a deleted interface is a new epoch")

    beat = stats["/sys/heartbeat"]
    deadline = time.monotonic() + 5
    while stats["/sys/heartbeat"] == beat and time.monotonic() < deadline:
        time.sleep(0.1)
    check(stats["/sys/heartbeat"] > beat, "heartbeat moves")
    stats.disconnect()
    print("stats check passed")


if __name__ == "__main__":
    main()
