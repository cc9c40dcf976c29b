#!/usr/bin/env python3
"""Times the agent's ConfiguratorService from Python grpcio (run by `check.sh --bench N`):
N sequential Updates, each adding one loopback interface (one transaction, one VPP create in
vpp-sim), then N Gets of the resulting config, then one Delete of all N. Prints a table row
per measurement for BENCHMARKS.md."""

import argparse
import statistics
import time

import grpc

from ligato.configurator import configurator_pb2 as cfg
from ligato.configurator import configurator_pb2_grpc as cfg_grpc
from ligato.vpp import vpp_pb2
from ligato.vpp.interfaces import interface_pb2


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p / 100))]


def row(what, samples):
    ms = [x * 1000 for x in samples]
    print(f"| {what} | {len(ms)} | p50 {pct(ms, 50):.2f} ms, p99 {pct(ms, 99):.2f} ms, "
          f"mean {statistics.mean(ms):.2f} ms |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("-n", type=int, default=500)
    args = ap.parse_args()
    channel = grpc.insecure_channel(args.endpoint)
    grpc.channel_ready_future(channel).result(timeout=20)
    stub = cfg_grpc.ConfiguratorServiceStub(channel)

    def loop(i):
        return interface_pb2.Interface(
            name=f"bench{i}", type=interface_pb2.Interface.SOFTWARE_LOOPBACK, enabled=True,
            ip_addresses=[f"10.{i // 250}.{i % 250}.1/24"])

    updates = []
    for i in range(args.n):
        req = cfg.UpdateRequest(update=cfg.Config(vpp_config=vpp_pb2.ConfigData(interfaces=[loop(i)])))
        t = time.perf_counter()
        stub.Update(req, timeout=20)
        updates.append(time.perf_counter() - t)
    gets = []
    for _ in range(args.n):
        t = time.perf_counter()
        got = stub.Get(cfg.GetRequest(), timeout=20)
        gets.append(time.perf_counter() - t)
    assert len(got.config.vpp_config.interfaces) == args.n, len(got.config.vpp_config.interfaces)
    everything = cfg.Config(vpp_config=vpp_pb2.ConfigData(interfaces=[loop(i) for i in range(args.n)]))
    t = time.perf_counter()
    stub.Delete(cfg.DeleteRequest(delete=everything), timeout=60)
    delete = time.perf_counter() - t

    print("| measurement | calls | latency |")
    print("|---|---|---|")
    row("Update: one new loopback with an address (one transaction)", updates)
    row(f"Get: the NB config of {args.n} interfaces", gets)
    print(f"| Delete: all {args.n} interfaces in one request (one transaction) | 1 | {delete * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
