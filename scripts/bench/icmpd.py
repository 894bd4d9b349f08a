#!/usr/bin/env python3
"""ICMP errors delivered by `rawtools icmpd` to 1,000 clients, beside IP_RECVERR, same traffic.

Builds a two-node lab (host -> dst) whose destination answers every datagram
to a closed port with a port unreachable (its ICMP rate limits lifted in its
own namespace), starts the daemon in the host namespace, and there opens
1,000 UDP sockets. Each round runs the same traffic twice, the order
alternating between rounds:

- icmpd: every socket registered over its own client connection;
- errqueue: the same sockets with IP_RECVERR, read with MSG_ERRQUEUE.

The traffic is datagrams sent round-robin from the 1,000 sockets, paced at
`--rate` per second (`--rate 0`: as fast as the sender goes). Latency is from
the kernel's receive stamp of the ICMP error (SO_TIMESTAMPNS: the daemon's
raw socket, or the error queue's skb) to the moment the client has the
error in hand; errors/s is what arrived, over the time from the first send
to the last arrival. Needs root.

    sudo .venv/bin/python scripts/bench/icmpd.py [--clients 1000] [--count 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rawtools.testing.lab import Lab

DPORT = 9  # discard: no server in the lab's destination, so every datagram earns an error


def percentile(values: Sequence[int], q: float) -> float:
    """The q-quantile (nearest rank) of `values`, in milliseconds."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))
    return ordered[rank] / 1e6


def traffic(socks: list[socket.socket], dst: str, count: int, rate: int,
            pump: Callable[[float], None]) -> int:
    """Send `count` datagrams round-robin at `rate`/s, pumping arrivals between batches."""
    batch = max(1, rate // 1000) if rate else 200
    period = batch / rate if rate else 0.0
    start = time.monotonic()
    sent = 0
    addr = (dst, DPORT)
    n = len(socks)
    while sent < count:
        for _ in range(min(batch, count - sent)):
            socks[sent % n].sendto(b"rawtools-bench", addr)
            sent += 1
        due = start + (sent // batch) * period
        pump(0.0)
        while (left := due - time.monotonic()) > 0:
            pump(left)
    return sent


def measure(socks: list[socket.socket], dst: str, count: int, rate: int,
            readers: list[tuple[int, Callable[[], list[Any]]]]) -> dict[str, float]:
    """Run the traffic and read every error through `readers` (fd, drain -> errors)."""
    sel = selectors.DefaultSelector()
    for fd, drain in readers:
        sel.register(fd, selectors.EVENT_READ, drain)
    lat: list[int] = []
    last = [0]

    def pump(timeout: float) -> None:
        for key, _ in sel.select(timeout):
            for err in key.data():
                now = time.time_ns()
                lat.append(now - err.ts_ns)
                last[0] = now

    t0 = time.time_ns()
    traffic(socks, dst, count, rate, pump)
    idle = time.monotonic() + 1.0
    while len(lat) < count and time.monotonic() < idle:
        before = len(lat)
        pump(0.05)
        if len(lat) > before:
            idle = time.monotonic() + 1.0
    sel.close()
    span = max(1, last[0] - t0) / 1e9
    return {"delivered": len(lat), "sent": count, "per_s": len(lat) / span,
            "p50_ms": percentile(lat, 0.50) if lat else float("nan"),
            "p99_ms": percentile(lat, 0.99) if lat else float("nan")}


def inner(args: argparse.Namespace) -> int:
    """The part that runs inside the lab's host namespace; prints one JSON line per phase."""
    from rawtools.icmpd import Client, ErrQueue
    from rawtools.io.sockopts import IP_RECVERR

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    socks = []
    for _ in range(args.clients):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((args.src, 0))
        s.setblocking(False)
        socks.append(s)
    # The reader's own garbage collections would land in both phases' tails.
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
    for rnd in range(args.rounds):
        order = ["icmpd", "errqueue"] if rnd % 2 == 0 else ["errqueue", "icmpd"]
        for phase in order:
            if phase == "icmpd":
                clients = [Client(args.socket) for _ in socks]
                for i, (c, s) in enumerate(zip(clients, socks, strict=True)):
                    c.register(s, tag=i)
                readers = [(c.fileno(), c.read) for c in clients]
                res = measure(socks, args.dst, args.count, args.rate, readers)
                for c in clients:
                    c.close()
            else:
                queues = [ErrQueue(s) for s in socks]
                res = measure(socks, args.dst, args.count, args.rate,
                              [(q.fileno(), q.read) for q in queues])
                for s in socks:  # back to no error queue for the next icmpd phase
                    s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 0)
            print(json.dumps({"round": rnd + 1, "phase": phase, **res}), flush=True)
            time.sleep(0.5)
    return 0


def outer(args: argparse.Namespace) -> int:
    with Lab(0) as lab, tempfile.TemporaryDirectory() as tmp:
        for key in ("net.ipv4.icmp_ratelimit=0", "net.ipv4.icmp_msgs_per_sec=10000000",
                    "net.ipv4.icmp_msgs_burst=10000000", "net.ipv6.icmp.ratelimit=0"):
            lab.run("dst", ["sysctl", "-q", "-w", key])
        path = str(Path(tmp) / "icmpd.sock")
        log = open(Path(tmp) / "icmpd.log", "w")  # noqa: SIM115 (closed with the directory)
        daemon = subprocess.Popen(lab.exec_argv("host", [
            sys.executable, "-m", "rawtools", "icmpd", "--socket", path]), stderr=log)
        try:
            deadline = time.monotonic() + 10
            while not os.path.exists(path) and time.monotonic() < deadline:
                time.sleep(0.05)
            argv = [sys.executable, __file__, "--inner", "--socket", path, "--src", lab.host4,
                    "--dst", lab.dst4, "--clients", str(args.clients), "--count",
                    str(args.count), "--rate", str(args.rate), "--rounds", str(args.rounds)]
            print(f"{args.clients} clients, {args.count} datagrams to a closed port per phase, "
                  f"paced at {args.rate or 'top speed'}/s; latency = kernel ICMP stamp -> "
                  "client has it", flush=True)
            rows: dict[str, list[dict[str, float]]] = {"icmpd": [], "errqueue": []}
            proc = subprocess.run(lab.exec_argv("host", argv), capture_output=True, text=True,
                                  timeout=900)
            for line in proc.stdout.splitlines():
                r = json.loads(line)
                rows[r["phase"]].append(r)
                print(f"round {r['round']} {r['phase']:>8}: {r['delivered']}/{r['sent']} "
                      f"delivered, {r['per_s']:,.0f} errors/s, latency p50 {r['p50_ms']:.3f} ms "
                      f"p99 {r['p99_ms']:.3f} ms", flush=True)
            if proc.returncode:
                print(proc.stderr.strip(), file=sys.stderr)
                return 1
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)
            log.close()
            print("daemon: " + (Path(tmp) / "icmpd.log").read_text().splitlines()[-1])
        for phase, rs in rows.items():
            if rs:
                print(f"median {phase:>8}: {statistics.median(r['per_s'] for r in rs):,.0f} "
                      f"errors/s, p50 {statistics.median(r['p50_ms'] for r in rs):.3f} ms, "
                      f"p99 {statistics.median(r['p99_ms'] for r in rs):.3f} ms")
        if rows["icmpd"] and rows["errqueue"]:
            ratio = [a["per_s"] / b["per_s"] for a, b in zip(rows["icmpd"], rows["errqueue"],
                                                              strict=False)]
            print(f"icmpd/errqueue errors/s (same round): "
                  f"{min(ratio):.2f}-{max(ratio):.2f}x")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--rate", type=int, default=10000, help="datagrams/s, 0 = top speed")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--socket", help=argparse.SUPPRESS)
    p.add_argument("--src", help=argparse.SUPPRESS)
    p.add_argument("--dst", help=argparse.SUPPRESS)
    args = p.parse_args()
    return inner(args) if args.inner else outer(args)


if __name__ == "__main__":
    sys.exit(main())
