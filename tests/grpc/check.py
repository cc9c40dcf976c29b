#!/usr/bin/env python3
"""Cross-checks the agent's ConfiguratorService with a client we did not write: Python grpcio
with stubs that grpcio-tools generated from messages/proto (check.sh does that and starts the
agent and vpp-sim). Drives update, get, dump, notify, a failing value and delete; exits
non-zero with a message on the first mismatch."""

import argparse
import queue
import sys
import threading

import grpc

from ligato.configurator import configurator_pb2 as cfg
from ligato.configurator import configurator_pb2_grpc as cfg_grpc
from ligato.vpp import vpp_pb2
from ligato.vpp.interfaces import interface_pb2
from ligato.vpp.l2 import bridge_domain_pb2

TIMEOUT = 20


def fail(msg):
    print(f"grpc check: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def names(config):
    return sorted(i.name for i in config.vpp_config.interfaces)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    args = ap.parse_args()

    channel = grpc.insecure_channel(args.endpoint)
    grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
    stub = cfg_grpc.ConfiguratorServiceStub(channel)

    # Notify: everything from index 0, read on a thread.
    notes = queue.Queue()
    stream = stub.Notify(cfg.NotifyRequest(idx=0))

    def read():
        try:
            for n in stream:
                notes.put(n)
        except grpc.RpcError:
            pass

    threading.Thread(target=read, daemon=True).start()

    # Update: an interface and a bridge domain with it as BVI.
    loop = interface_pb2.Interface(
        name="pyloop1",
        type=interface_pb2.Interface.SOFTWARE_LOOPBACK,
        enabled=True,
        ip_addresses=["10.20.0.1/24"],
    )
    bd = bridge_domain_pb2.BridgeDomain(
        name="pybd",
        interfaces=[bridge_domain_pb2.BridgeDomain.Interface(name="pyloop1", bridged_virtual_interface=True)],
    )
    update = cfg.Config(vpp_config=vpp_pb2.ConfigData(interfaces=[loop], bridge_domains=[bd]))
    resp = stub.Update(cfg.UpdateRequest(update=update), timeout=TIMEOUT)
    check(resp.txn_seq > 0, f"update: no transaction number: {resp}")
    states = [(r.key, r.state, r.error) for r in resp.results]
    check(
        states == [
            ("config/vpp/v2/interfaces/pyloop1", "CONFIGURED", ""),
            ("config/vpp/l2/v2/bridge-domain/pybd", "CONFIGURED", ""),
        ],
        f"update results: {states}",
    )
    print(f"grpc check: update ok (txn #{resp.txn_seq})")

    # Get: the NB config holds both, as sent.
    got = stub.Get(cfg.GetRequest(), timeout=TIMEOUT).config
    check(list(got.vpp_config.interfaces) == [loop], f"get interfaces: {got}")
    check(list(got.vpp_config.bridge_domains) == [bd], f"get bridge domains: {got}")
    print("grpc check: get ok")

    # Dump: the SB view also has VPP's own local0.
    dump = stub.Dump(cfg.DumpRequest(), timeout=TIMEOUT).dump
    check({"pyloop1", "local0"} <= set(names(dump)), f"dump interfaces: {names(dump)}")
    print("grpc check: dump ok")

    # Notify: pyloop1 came up.
    while True:
        try:
            n = notes.get(timeout=TIMEOUT)
        except queue.Empty:
            fail("no notification for pyloop1")
        state = n.notification.vpp_notification.interface.state
        if state.name == "pyloop1":
            check(state.admin_status == state.UP, f"pyloop1 notified {state}")
            check(n.next_idx >= 1, f"next_idx {n.next_idx}")
            break
    print("grpc check: notify ok")

    # A failing value: ABORTED naming the key; the response rides in the details.
    bad = cfg.Config(vpp_config=vpp_pb2.ConfigData(
        bridge_domains=[bridge_domain_pb2.BridgeDomain(name="pybad", mac_age=300)]))
    try:
        stub.Update(cfg.UpdateRequest(update=bad), timeout=TIMEOUT)
        fail("an invalid bridge domain was accepted")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.ABORTED, f"failed update code {e.code()}")
        check("config/vpp/l2/v2/bridge-domain/pybad" in e.details(), f"failed update message {e.details()}")
    print("grpc check: per-item error ok")

    # A model this agent does not implement (Ligato's acls, ConfigData field 20), as a client
    # built from Ligato's full .proto files sends it: refused, nothing applied.
    data = vpp_pb2.ConfigData(interfaces=[interface_pb2.Interface(name="pyunknown")])
    data.ParseFromString(data.SerializeToString() + b"\xa2\x01\x00")
    try:
        stub.Update(cfg.UpdateRequest(update=cfg.Config(vpp_config=data)), timeout=TIMEOUT)
        fail("an unknown model was accepted")
    except grpc.RpcError as e:
        check(e.code() == grpc.StatusCode.INVALID_ARGUMENT, f"unknown model code {e.code()}")
        check("unknown field 20 of ligato.vpp.ConfigData" in e.details(), f"unknown model message {e.details()}")
    got = stub.Get(cfg.GetRequest(), timeout=TIMEOUT).config
    check("pyunknown" not in names(got), f"get after a refused update: {names(got)}")
    print("grpc check: unknown model refused ok")

    # Delete the bridge domain and the bad one, then the interface; Get is empty again.
    stub.Delete(cfg.DeleteRequest(delete=cfg.Config(vpp_config=vpp_pb2.ConfigData(
        bridge_domains=[bd, bridge_domain_pb2.BridgeDomain(name="pybad", mac_age=300)]))), timeout=TIMEOUT)
    resp = stub.Delete(cfg.DeleteRequest(delete=cfg.Config(vpp_config=vpp_pb2.ConfigData(interfaces=[loop]))), timeout=TIMEOUT)
    check([r.state for r in resp.results] == ["REMOVED"], f"delete results: {resp.results}")
    got = stub.Get(cfg.GetRequest(), timeout=TIMEOUT).config
    check(names(got) == [] and len(got.vpp_config.bridge_domains) == 0, f"get after delete: {got}")
    print("grpc check: delete ok")

    stream.cancel()
    channel.close()
    print("grpc check passed")


if __name__ == "__main__":
    main()
