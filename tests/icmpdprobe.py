"""Run inside a lab namespace: register UDP sockets with icmpd, send, print the errors as JSON.

    python icmpdprobe.py SOCKET FLOW [FLOW ...]

A FLOW is `BIND>TO` plus options, comma-separated: `198.18.0.1:40000>198.18.3.2:9,n=3`
(send 3 datagrams), `size=1400` (payload bytes), `df` (no fragmentation:
IP_PMTUDISC_PROBE), `ttl=2`; IPv6 addresses in brackets. Every flow gets its own
socket and its own client connection, registered with tag = its index. The
script waits until every flow has as many errors as datagrams, or 3 s, then
prints one JSON object per flow: {"flow": i, "errors": [...]} with each
IcmpError's fields, so the test compares them with the lab's addressing.
"""

from __future__ import annotations

import dataclasses
import json
import selectors
import socket
import sys
import time

from rawtools.icmpd import Client, IcmpError
from rawtools.io.sockopts import IP_MTU_DISCOVER, IPV6_MTU_DISCOVER, PMTUDISC_PROBE


def endpoint(text: str) -> tuple[int, str, int]:
    host, _, port = text.rpartition(":")
    if host.startswith("["):
        return socket.AF_INET6, host[1:-1], int(port)
    return socket.AF_INET, host, int(port)


def main(path: str, flows: list[str]) -> int:
    setups = []
    for text in flows:
        route, *opts = text.split(",")
        bind, to = route.split(">")
        fam, baddr, bport = endpoint(bind)
        _, taddr, tport = endpoint(to)
        o = dict(x.split("=") if "=" in x else (x, "1") for x in opts)
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((baddr, bport))
        if "df" in o:
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, PMTUDISC_PROBE)
            else:
                s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, PMTUDISC_PROBE)
        if "ttl" in o:
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, int(o["ttl"]))
            else:
                s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, int(o["ttl"]))
        setups.append((s, (taddr, tport), int(o.get("n", "1")), int(o.get("size", "8"))))
    clients = []
    for i, (s, _, _, _) in enumerate(setups):
        c = Client(path)
        c.register(s, tag=i)
        clients.append(c)
    for s, to, n, size in setups:
        for _ in range(n):
            s.sendto(b"x" * size, to)
            time.sleep(0.01)
    got: list[list[IcmpError]] = [[] for _ in setups]
    sel = selectors.DefaultSelector()
    for i, c in enumerate(clients):
        sel.register(c.fileno(), selectors.EVENT_READ, i)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and any(len(g) < s[2] for g, s in zip(got, setups,
                                                                             strict=True)):
        for key, _ in sel.select(0.1):
            got[key.data].extend(clients[key.data].read())
    time.sleep(0.3)  # anything extra (a wrong delivery) shows up too
    for i, c in enumerate(clients):
        got[i].extend(c.read())
    for i, errs in enumerate(got):
        print(json.dumps({"flow": i, "errors": [dataclasses.asdict(e) for e in errs]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
