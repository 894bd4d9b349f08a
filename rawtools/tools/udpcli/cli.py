"""`rawtools udpcli`: UNP's dg_cli (section 28.7) that hears its ICMP errors.

Each line of stdin goes out as one datagram from an unconnected UDP socket,
newline included, and the client waits for whichever comes first: the reply
(printed as it came), the ICMP error the datagram caused (UNP's line, on
stdout), or `socket timeout` (stderr). An unconnected socket is the point:
the kernel tells it nothing of ICMP errors, so they come from icmpd (the
default) or from the socket's own error queue with --errqueue.
"""

from __future__ import annotations

import argparse
import contextlib
import select
import socket
import sys
import time
from typing import BinaryIO

from rawtools.errors import InterfaceError
from rawtools.icmpd import Client, ErrQueue, IcmpError
from rawtools.io.sockopts import (
    IP_MTU_DISCOVER,
    IP_TTL,
    IPV6_MTU_DISCOVER,
    IPV6_UNICAST_HOPS,
    PMTUDISC_PROBE,
)
from rawtools.tools.options import NS, add_family_flags
from rawtools.tools.udpcli.config import UdpCliConfig, udpcli_config
from rawtools.wire.icmpdmsg import DEFAULT_SOCKET


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("host", metavar="HOST", help="host name or address")
    p.add_argument("port", metavar="PORT", help="UDP port number or service name")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--icmpd", metavar="PATH", default=DEFAULT_SOCKET,
                     help=f"learn ICMP errors from the icmpd listening here (default "
                          f"{DEFAULT_SOCKET})")
    how.add_argument("--errqueue", action="store_true",
                     help="learn them from the socket's own error queue (IP_RECVERR): "
                          "no daemon needed")
    add_family_flags(p)
    p.add_argument("-t", dest="timeout", type=float, default=5.0, metavar="SEC",
                   help="seconds to wait for a reply or an error (default 5)")
    p.add_argument("--ttl", type=int, metavar="N",
                   help="TTL / hop limit of the datagrams (1-255), e.g. to draw time exceeded")
    p.add_argument("--df", action="store_true",
                   help="send with Don't Fragment and never fragment here (IP_PMTUDISC_PROBE): "
                        "a narrower link answers fragmentation needed / packet too big")
    p.add_argument("-l", dest="local", metavar="ADDR[:PORT]",
                   help="bind to this address (and port); IPv6 with a port as [ADDR]:PORT")
    p.add_argument("-v", dest="verbose", action="store_true",
                   help="after each ICMP error, who sent it, its TTL, the MTU, rewrites")


def run(args: argparse.Namespace) -> int:
    cfg = udpcli_config(args.host, args.port, icmpd=None if args.errqueue else args.icmpd,
                        version=args.version, timeout=args.timeout, ttl=args.ttl, df=args.df,
                        local=args.local, verbose=args.verbose)
    with contextlib.ExitStack() as stack:
        sock = stack.enter_context(open_socket(cfg))
        if cfg.icmpd is None:
            errors: Client | ErrQueue = ErrQueue(sock)
        else:
            errors = stack.enter_context(Client(cfg.icmpd))
            errors.register(sock)
        return dg_cli(cfg, sock, errors, sys.stdin.buffer, sys.stdout.buffer)


def open_socket(cfg: UdpCliConfig) -> socket.socket:
    """The UDP socket, bound (icmpd needs its port before the first datagram) and set up.

    --df uses IP_PMTUDISC_PROBE rather than IP_PMTUDISC_DO: both set DF and
    never fragment, but DO also honours the path MTU the kernel cached from
    an earlier fragmentation-needed, and then refuses a larger datagram in
    sendto (EMSGSIZE) instead of sending it; PROBE sends it, so each such
    datagram draws its own ICMP error. Only datagrams over the interface's
    MTU still fail locally.
    """
    v6 = cfg.version == 6
    sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    level = socket.IPPROTO_IPV6 if v6 else socket.IPPROTO_IP
    try:
        if cfg.ttl is not None:
            sock.setsockopt(level, IPV6_UNICAST_HOPS if v6 else IP_TTL, cfg.ttl)
        if cfg.df:
            sock.setsockopt(level, IPV6_MTU_DISCOVER if v6 else IP_MTU_DISCOVER, PMTUDISC_PROBE)
        addr, port = cfg.local or ("::" if v6 else "0.0.0.0", 0)
        try:
            sock.bind((addr, port))
        except OSError as e:
            raise InterfaceError(f"-l {addr} port {port}: {e.strerror}") from None
    except BaseException:
        sock.close()
        raise
    return sock


def error_line(e: IcmpError) -> str:
    """UNP's line; an IPv6 destination is written [ADDR]:PORT, as UNP's sock_ntop does."""
    dest = f"[{e.dst}]:{e.dport}" if e.version == 6 else f"{e.dst}:{e.dport}"
    return f"ICMP error: dest = {dest}, {e.strerror}, type = {e.type}, code = {e.code}"


def detail_line(e: IcmpError) -> str:
    """-v: what UNP's line leaves out (a TTL of 0 is one the source could not know)."""
    parts = [f"from {e.offender}"]
    if e.ttl:
        parts.append(f"ttl {e.ttl}")
    if e.mtu:
        parts.append(f"mtu {e.mtu}")
    if e.rewritten:
        parts.append(f"rewritten: {', '.join(e.rewritten)}")
    if e.dropped:
        parts.append(f"{e.dropped} earlier errors dropped")
    return "  " + ", ".join(parts)


def dg_cli(cfg: UdpCliConfig, sock: socket.socket, errors: Client | ErrQueue,
           lines: BinaryIO, out: BinaryIO) -> int:
    """Send each line and show what came of it; 0 at the end of input."""

    def say(text: str) -> None:
        out.write(text.encode() + b"\n")
        out.flush()

    def report(found: list[IcmpError]) -> None:
        for e in found:
            say(error_line(e))
            if cfg.verbose:
                say(detail_line(e))

    for line in iter(lines.readline, b""):
        # Errors that came after an earlier timeout: shown before this send, and
        # with the error queue also cleared, since a pending one would fail sendto.
        report(errors.read())
        try:
            sock.sendto(line, (cfg.dst, cfg.port))
        except OSError as e:
            print(f"sendto: {e.strerror}", file=sys.stderr, flush=True)
            continue
        answer = _answer(sock, errors, cfg.timeout_ns)
        if answer is None:
            print("socket timeout", file=sys.stderr, flush=True)
        elif isinstance(answer, bytes):
            out.write(answer)
            out.flush()
        else:
            report(answer)
    return 0


def _answer(sock: socket.socket, errors: Client | ErrQueue,
            timeout_ns: int) -> bytes | list[IcmpError] | None:
    """The reply, or the errors, whichever comes first within the timeout (else None).

    With the error queue the socket also fails recvfrom with a pending
    error's errno; the queued entry stays, so the next round reads it.
    """
    deadline = time.monotonic_ns() + timeout_ns
    fds = {sock.fileno(), errors.fileno()}
    while (left := deadline - time.monotonic_ns()) > 0:
        if not select.select(list(fds), [], [], left / NS)[0]:
            return None
        found = errors.read()
        if found:
            return found
        with contextlib.suppress(OSError):
            return sock.recvfrom(65535, socket.MSG_DONTWAIT)[0]
    return None
