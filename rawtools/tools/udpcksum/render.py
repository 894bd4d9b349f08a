"""udpcksum's text: UNP's `UDP checksums on` / `off`, and what the tool learned beyond it.

One line says what is sent; a line per timeout, then the answer: the reply's
size, TTL and time, and the verdict line that starts with UNP's words, so a
script looking for them still finds them. An unverifiable checksum is
explained on the next line, since that is where a reader would otherwise
blame the server. `-v` adds the capture (device, link type, filter), the
bytes sent (tcpdump -x's layout) and the checksum received beside the
computed one.
"""

from __future__ import annotations

import sys
from typing import IO

from rawtools.tools.icmpwords import describe_error
from rawtools.tools.udpcksum.events import (
    Answered,
    IcmpError,
    NoResponse,
    Sent,
    Timeout,
    UdpCksumEvent,
)
from rawtools.tools.udpcksum.payloads import describe
from rawtools.tools.udpcksum.session import Plan
from rawtools.wire.udp import UdpCheck

NS = 1_000_000_000
_HEADER_MODE = {"hdrincl": "our IPv6 header (IPV6_HDRINCL)",
                "options": "the kernel's IPv6 header, set from ours by options (no IPV6_HDRINCL)"}


def hexdump(data: bytes) -> list[str]:
    """tcpdump -x's lines: offset, then 16 bytes as groups of two."""
    lines = []
    for off in range(0, len(data), 16):
        chunk = data[off:off + 16].hex()
        groups = " ".join(chunk[i:i + 4] for i in range(0, len(chunk), 4))
        lines.append(f"\t0x{off:04x}:  {groups}")
    return lines


def _seconds(ns: int) -> str:
    return f"{ns / NS:g} s"


def _tries(n: int) -> str:
    return f"{n} {'try' if n == 1 else 'tries'}"


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.3f} ms"


def header(plan: Plan) -> str:
    p = plan.probe
    service = f" ({plan.service})" if plan.service else ""
    addr = "" if plan.host == p.dst else f" ({p.dst})"
    zero = ", checksum 0 (-0)" if p.zero_checksum else ""
    what = describe(plan.kind, plan.query, len(p.payload))
    return (f"udpcksum to {plan.host}{addr} port {p.dport}{service}: {what}, "
            f"{len(p.datagram())} bytes from {p.src}.{p.sport}{zero}")


def verdict_lines(c: UdpCheck) -> list[str]:
    """UNP's answer, the verdict, and why where it is not plain."""
    field = f"{c.field:#06x}"
    if c.reason == "zero":
        if c.version == 6:
            return ["UDP checksums off: the checksum field is 0, invalid in IPv6 "
                    "(receivers drop such datagrams)"]
        return ["UDP checksums off: the checksum field is 0 (not computed)"]
    line = f"UDP checksums on: {field}"
    match c.reason:
        case "computed":
            return [f"{line}, valid"]
        case "mismatch":
            return [f"{line}, invalid (it should be {c.expected or 0:#06x})"]
        case "length":
            return [f"{line}, invalid: the UDP length field ({c.udp_length}) does not fit the "
                    f"{c.ip_length}-byte datagram"]
        case "truncated":
            return [f"{line}, unverifiable: the capture holds {c.captured} of its "
                    f"{c.ip_length} bytes"]
        case "fragment":
            return [f"{line}, unverifiable: the reply came in fragments ({c.captured} bytes in "
                    f"the first of {c.udp_length} UDP bytes) and is not reassembled here"]
    # "offload": the field holds the pseudo-header sum alone.
    return [f"{line}, unverifiable: it is the pseudo-header sum that transmit offload "
            "starts from",
            "  the sender's kernel left the checksum for its network device to finish, and "
            "the datagram was captured before anything did (a veth, container or VM on this "
            "machine with tx checksum offload on); finished, it would be "
            f"{c.expected or 0:#06x}"]


class TextRenderer:
    """Prints a run as it goes; `verbose` is -v."""

    def __init__(self, out: IO[str] | None = None, *, verbose: bool = False,
                 replay: str | None = None) -> None:
        self.out = out or sys.stdout
        self.verbose = verbose
        self.replay = replay

    def _write(self, *lines: str) -> None:
        for line in lines:
            self.out.write(line + "\n")
        self.out.flush()

    def start(self, plan: Plan) -> None:
        if self.verbose:
            if self.replay:
                self._write(f"replaying {self.replay}")
            else:
                self._write(f"device {plan.device}, link type {plan.linktype}",
                            f"filter: {plan.bpf}")
                if plan.header_mode:
                    self._write(f"sending {_HEADER_MODE[plan.header_mode]}")
        self._write(header(plan))

    def event(self, ev: UdpCksumEvent) -> None:
        match ev:
            case Sent() if self.verbose:
                self._write(f"try {ev.try_no} of {ev.tries}: {len(ev.datagram)} bytes sent",
                            *hexdump(ev.datagram))
            case Timeout(again=True):
                self._write(f"no reply in {_seconds(ev.waited_ns)}, trying again")
            case NoResponse():
                self._write(f"no response ({_tries(ev.tries)} in {ev.elapsed_ns / NS:.1f} s)")
            case IcmpError(icmp=i, no_server=True):
                self._write(f"no server on that port: {describe_error(i)} from {i.src} "
                            f"({_ms(ev.rtt_ns)})")
            case IcmpError(icmp=i):
                self._write(f"ICMP error from {i.src}: {describe_error(i)} ({_ms(ev.rtt_ns)})")
            case Answered(check=c):
                self._answer(ev, c)

    def _answer(self, ev: Answered, c: UdpCheck) -> None:
        self._write(f"reply from {c.src}.{c.sport}: {c.ip_length} bytes ({c.payload_length} "
                    f"of UDP payload), ttl {c.ttl}, {_ms(ev.rtt_ns)}")
        if self.verbose:
            computed = "cannot be computed" if c.expected is None else f"{c.expected:#06x}"
            self._write(f"checksum received {c.field:#06x}, computed {computed}")
        self._write(*verdict_lines(c))

    def interrupted(self, tries: int) -> None:
        self._write(f"interrupted after {_tries(tries)}")
