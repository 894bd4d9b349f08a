"""One DNS question to one server over a plain UDP socket, as a resolver library asks it.

doctor asks each nameserver itself rather than calling getaddrinfo: the C
library tries the servers in turn and caches, so a dead first server hides
behind a live second one, and a failure does not say which server failed
or how (silence, port unreachable, REFUSED). dpkt builds and parses the
message; its ID and question are checked as a resolver checks them.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import time

import dpkt

from rawtools.values import frozen

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
QTYPES = {"A": dpkt.dns.DNS_A, "AAAA": dpkt.dns.DNS_AAAA, "NS": dpkt.dns.DNS_NS,
          "SOA": dpkt.dns.DNS_SOA}


@frozen
class DnsOutcome:
    """What one server did with the question: `rcode` None when nothing answered.

    `error` is why nothing usable came (silence, an ICMP error, a reply not
    to our question); `tries` how many queries were sent.
    """

    server: str
    rcode: int | None
    answers: int
    rtt_ms: float | None
    tries: int
    error: str | None = None

    @property
    def rcode_name(self) -> str | None:
        return None if self.rcode is None else RCODES.get(self.rcode, f"RCODE{self.rcode}")


def build_query(ident: int, name: str, qtype: str) -> bytes:
    """A recursive query (RD set) for `name`/`qtype`; the root is "." or ""."""
    q = dpkt.dns.DNS(id=ident, op=dpkt.dns.DNS_RD, rd=1,
                     qd=[dpkt.dns.DNS.Q(name=name.rstrip("."), type=QTYPES[qtype],
                                        cls=dpkt.dns.DNS_IN)])
    return bytes(q)


def parse_answer(data: bytes, ident: int, name: str) -> tuple[int, int] | None:
    """(rcode, answer count) of a response to our question, None for anything else."""
    try:
        msg = dpkt.dns.DNS(data)
    except (dpkt.UnpackError, IndexError, ValueError):
        return None
    if msg.id != ident or msg.qr != dpkt.dns.DNS_R:
        return None
    if msg.qd and msg.qd[0].name.lower() != name.rstrip(".").lower():
        return None
    return msg.rcode, len(msg.an)


def _address(server: str, port: int) -> tuple[int, tuple[str, int] | tuple[str, int, int, int]]:
    host, _, zone = server.partition("%")
    if ":" in host:
        scope = socket.if_nametoindex(zone) if zone else 0
        return socket.AF_INET6, (host, port, 0, scope)
    return socket.AF_INET, (host, port)


def query(server: str, name: str = ".", qtype: str = "NS", wait: float = 2.0, tries: int = 2,
          port: int = 53) -> DnsOutcome:
    """Ask `server` once, again after `wait` s of silence (UDP may lose one), and report.

    The socket is connected, so an ICMP port or host unreachable comes back
    as an error on the next receive: the server's host is there but nothing
    listens, or a router says it cannot be reached. Never raises for what
    the network does; an unusable address (no such zone) is an error line too.
    """
    try:
        family, addr = _address(server, port)
    except OSError as e:
        return DnsOutcome(server, None, 0, None, 0, f"bad address: {e.strerror or e}")
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        try:
            s.connect(addr)
        except OSError as e:
            return DnsOutcome(server, None, 0, None, 0, f"connect: {e.strerror}")
        sent = 0
        for _ in range(tries):
            ident = int.from_bytes(os.urandom(2))
            t0 = time.monotonic()
            try:
                s.send(build_query(ident, name, qtype))
            except OSError as e:
                return DnsOutcome(server, None, 0, None, sent, f"send: {e.strerror}")
            sent += 1
            deadline = t0 + wait
            while (left := deadline - time.monotonic()) > 0:
                if not select.select([s], [], [], left)[0]:
                    break
                try:
                    data = s.recv(65535)
                except OSError as e:
                    what = "port unreachable (nothing listens on port 53)" \
                        if e.errno == errno.ECONNREFUSED else e.strerror
                    return DnsOutcome(server, None, 0, None, sent, what)
                got = parse_answer(data, ident, name)
                if got is not None:
                    rtt = (time.monotonic() - t0) * 1000
                    return DnsOutcome(server, got[0], got[1], round(rtt, 3), sent)
    return DnsOutcome(server, None, 0, None, sent,
                      f"no answer to {sent} quer{'y' if sent == 1 else 'ies'} in {wait:g} s each")
