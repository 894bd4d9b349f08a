"""udpcksum results as data: the API's `UdpCksumResult`, and the JSON lines made from it.

`build_result` turns a finished run into the `UdpCksumResult` that
`rawtools.udpcksum()` returns; `--json`'s summary is that result's
`to_dict()`, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Literal

from rawtools.io.ipsend import HeaderMode
from rawtools.jsonout import JsonResult, record
from rawtools.tools.icmpwords import describe_error
from rawtools.tools.udpcksum.engine import Outcome
from rawtools.tools.udpcksum.events import Sent, Timeout, UdpCksumEvent
from rawtools.tools.udpcksum.payloads import PayloadKind
from rawtools.tools.udpcksum.session import UdpCksumRun
from rawtools.values import frozen
from rawtools.wire.udp import Reason, Verdict

if TYPE_CHECKING:
    from rawtools.engine import Mechanism

NS_PER_MS = 1_000_000


@frozen
class UdpReply:
    """The server's answer: sizes, TTL and the checksum with its verdict.

    `bytes` is the IP datagram's length, `payload` the UDP payload's,
    `captured` how many of `bytes` the capture holds; `checksum` is the
    field as received, `expected` what it should be (None when it cannot be
    computed), `pseudo_sum` the value transmit offload would have left.
    """

    src: str
    sport: int
    bytes: int
    payload: int
    captured: int
    ttl: int
    checksum: int
    expected: int | None
    pseudo_sum: int
    verdict: Verdict
    reason: Reason


@frozen
class IcmpSeen:
    """An ICMP error that quoted our datagram."""

    src: str
    type: int
    code: int
    text: str


@frozen
class UdpCksumResult(JsonResult):
    """A finished run. `checksums` is UNP's answer ("on" / "off", None without a reply).

    `outcome` says how it ended ("reply", "no-server", "icmp-error",
    "no-response", "interrupted"); `mechanism` is "raw" live (raw IP socket
    and capture) or "replay"; `header_mode` says whether an IPv6 datagram
    left with our header (IPV6_HDRINCL) or the kernel's built from options.
    """

    host: str
    addr: str
    version: int
    port: int
    service: str | None
    source: str
    sport: int
    payload: PayloadKind
    query: str | None
    sent_bytes: int
    zero: bool
    mechanism: Mechanism
    device: str | None
    linktype: str | None
    filter: str | None
    header_mode: HeaderMode | None
    tries: int
    outcome: Outcome
    checksums: Literal["on", "off"] | None
    reply: UdpReply | None
    icmp: IcmpSeen | None
    rtt_ms: float | None
    elapsed_ms: float
    unrelated: int
    malformed: int

    @property
    def verdict(self) -> Verdict | None:
        return self.reply.verdict if self.reply else None

    def to_dict(self) -> dict[str, Any]:
        """The final JSON object: the fields as plain data, then `verdict`."""
        return record("udpcksum", "summary", **asdict(self), verdict=self.verdict)


def build_result(run: UdpCksumRun) -> UdpCksumResult:
    e, plan, probe = run.engine, run.plan, run.plan.probe
    reply = icmp = None
    c = e.check
    if c is not None:
        reply = UdpReply(c.src, c.sport, c.ip_length, c.payload_length, c.captured, c.ttl,
                         c.field, c.expected, c.pseudo_sum, c.verdict, c.reason)
    if e.icmp is not None:
        icmp = IcmpSeen(e.icmp.src, e.icmp.type, e.icmp.code, describe_error(e.icmp))
    return UdpCksumResult(
        host=plan.host, addr=probe.dst, version=probe.version, port=probe.dport,
        service=plan.service, source=probe.src, sport=probe.sport, payload=plan.kind,
        query=plan.query, sent_bytes=len(e.datagram), zero=probe.zero_checksum,
        mechanism=plan.mechanism, device=plan.device, linktype=plan.linktype, filter=plan.bpf,
        header_mode=plan.header_mode, tries=e.tries, outcome=e.outcome or "interrupted",
        checksums=None if c is None else ("on" if c.checksums_on else "off"), reply=reply,
        icmp=icmp, rtt_ms=None if e.rtt_ns is None else e.rtt_ns / NS_PER_MS,
        elapsed_ms=((e.end_ns or 0) - (e.first_ns or 0)) / NS_PER_MS if e.first_ns else 0.0,
        unrelated=e.unrelated, malformed=e.malformed)


def event_record(ev: UdpCksumEvent) -> dict[str, Any] | None:
    """The JSON line of an event; the answer, an ICMP error or "no response" are
    the summary's, which holds them whole."""
    match ev:
        case Sent():
            return {"type": "sent", "try": ev.try_no, "ts": ev.ts_ns / 1e9,
                    "bytes": len(ev.datagram), "datagram": ev.datagram.hex()}
        case Timeout():
            return {"type": "timeout", "try": ev.try_no, "waited_ms": ev.waited_ns / NS_PER_MS,
                    "again": ev.again}
    return None
