"""A DNS responder for the lab: answers every question, on IPv4 and IPv6 at once.

doctor's tests run it in a lab namespace as the resolver being checked. It
answers each query with the `--rcode` it was given (NOERROR by default),
echoing the question and, for NOERROR, one record of the asked type (A
198.18.255.1, AAAA 2001:db8:ff::1, NS ns.lab.), so a client can check the
ID, the question and the answer count as a resolver would. It prints
`ready` once it listens, then one line per query it answered.

    python3 -m rawtools.testing.dnsserver [--port 53] [--rcode 5]
"""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Any

import dpkt

RECORDS: dict[int, dict[str, Any]] = {
    dpkt.dns.DNS_A: {"ip": socket.inet_pton(socket.AF_INET, "198.18.255.1")},
    dpkt.dns.DNS_AAAA: {"ip6": socket.inet_pton(socket.AF_INET6, "2001:db8:ff::1")},
    dpkt.dns.DNS_NS: {"nsname": "ns.lab"},
}


def answer(data: bytes, rcode: int) -> bytes | None:
    """The response to one query, None for what is not a query with one question."""
    try:
        q = dpkt.dns.DNS(data)
    except (dpkt.UnpackError, IndexError, ValueError):
        return None
    if q.qr != dpkt.dns.DNS_Q or len(q.qd) != 1:
        return None
    r = dpkt.dns.DNS(id=q.id, qd=q.qd, an=[])
    r.op = dpkt.dns.DNS_RA | (q.op & dpkt.dns.DNS_RD)  # op holds every flag: set before them
    r.qr, r.rcode = dpkt.dns.DNS_R, rcode
    question = q.qd[0]
    if rcode == dpkt.dns.DNS_RCODE_NOERR and question.type in RECORDS:
        r.an.append(dpkt.dns.DNS.RR(name=question.name, type=question.type,
                                    cls=dpkt.dns.DNS_IN, ttl=60, **RECORDS[question.type]))
    return bytes(r)


def serve(port: int, rcode: int) -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # IPv4 as ::ffff:a.b.c.d
        s.bind(("::", port))
        print("ready", flush=True)
        while True:
            data, addr = s.recvfrom(65535)
            reply = answer(data, rcode)
            if reply is not None:
                s.sendto(reply, addr)
                print(f"{addr[0]}.{addr[1]} {len(data)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--rcode", type=int, default=0, help="response code of every answer")
    args = p.parse_args(argv)
    serve(args.port, args.rcode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
