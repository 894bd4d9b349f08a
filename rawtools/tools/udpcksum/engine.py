"""The udpcksum state machine: send the datagram, wait with backoff, judge what comes back.

Sans-I/O like every engine here (see `rawtools.engine`): the live run, the
replay of a recording and the unit tests drive the same decisions.

UNP's prober sends its query up to three times, waiting 3, 6 and 12 s, and
prints whether the answer's checksum field is zero. This one keeps that
schedule (the first wait and the number of retries are options) and goes
further on what it reads:

- the answer's checksum is judged from its bytes (`rawtools.wire.udp`):
  valid, invalid, disabled, or unverifiable, with the reason;
- an ICMP error ends the run when it quotes our datagram (addresses,
  protocol, both ports); a port unreachable means no server on that port.
  Redirects and source quenches, which say nothing about delivery, are
  counted as unrelated and the wait goes on;
- every try carries the same datagram, so the answer to any of them counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from rawtools.engine import Received, Send
from rawtools.tools.udpcksum.events import (
    Answered,
    IcmpError,
    NoResponse,
    Sent,
    Timeout,
    UdpCksumEvent,
)
from rawtools.wire.icmp import ICMP6_UNREACH_NOPORT, ICMP_UNREACH_PORT, Icmp, parse_ip
from rawtools.wire.ip import PROTO_UDP, parse_header
from rawtools.wire.udp import UdpCheck, UdpProbe, check_udp

if TYPE_CHECKING:
    from rawtools.wire.icmp import IcmpKind

Outcome = Literal["reply", "no-server", "icmp-error", "no-response", "interrupted"]
"""How a run ended: the server answered, its host said no server is on the port,
another ICMP error came back, every try went unanswered, or it was stopped."""

_FINAL_ERRORS: frozenset[IcmpKind] = frozenset(
    {"unreachable", "time-exceeded", "param-problem", "packet-too-big"})


class UdpCksumEngine:
    """Probe `probe.dst` with `probe` up to 1 + `retries` times, the wait doubling each time."""

    def __init__(self, probe: UdpProbe, wait_ns: int, retries: int) -> None:
        self.probe = probe
        self.datagram = probe.datagram()
        self.wait_ns = wait_ns
        self.retries = retries
        self.tries = 0
        self.outcome: Outcome | None = None
        self.check: UdpCheck | None = None
        self.icmp: Icmp | None = None
        self.rtt_ns: int | None = None
        self.unrelated = 0
        self.malformed = 0
        self.first_ns: int | None = None
        self.end_ns: int | None = None
        self._sent_ns: int | None = None
        self._deadline: int | None = None
        self._events: list[UdpCksumEvent] = []

    # -- Engine protocol (rawtools.engine) --------------------------------------
    @property
    def done(self) -> bool:
        return self.outcome is not None

    def poll(self, now_ns: int) -> list[Send]:
        if self.done:
            return []
        if self.tries == 0:
            return [self._try()]
        if self._deadline is None or now_ns < self._deadline:
            return []
        again = self.tries <= self.retries
        self._events.append(Timeout(self.tries, self._wait(self.tries), again))
        if again:
            return [self._try()]
        self._finish("no-response", self._deadline)
        self._events.append(NoResponse(self.tries, self._elapsed()))
        return []

    def sent(self, send: Send, ts_ns: int) -> None:
        self._sent_ns = ts_ns
        if self.first_ns is None:
            self.first_ns = ts_ns
        self._deadline = ts_ns + self._wait(self.tries)
        self._events.append(Sent(self.tries, 1 + self.retries, ts_ns, self.datagram))

    def received(self, pkt: Received) -> None:
        if self.done or self._sent_ns is None:
            self.unrelated += 1
            return
        h = parse_header(pkt.packet)
        if h is None:
            self.malformed += 1
        elif h.proto == PROTO_UDP:
            self._udp(pkt)
        else:
            self._icmp(pkt)

    def next_deadline(self) -> int | None:
        return None if self.done else self._deadline

    def take_events(self) -> list[UdpCksumEvent]:
        out, self._events = self._events, []
        return out

    def stop(self, now_ns: int) -> None:
        if not self.done:
            self._finish("interrupted", now_ns)

    # -- internals ---------------------------------------------------------------
    def _wait(self, try_no: int) -> int:
        return self.wait_ns << (try_no - 1)

    def _try(self) -> Send:
        self.tries += 1
        self._deadline = None
        return Send(self.probe.dst, self.datagram, self.probe.ttl, meta=self.tries)

    def _elapsed(self) -> int:
        return (self.end_ns or 0) - (self.first_ns or 0)

    def _finish(self, outcome: Outcome, ts_ns: int) -> None:
        self.outcome = outcome
        self.end_ns = ts_ns

    def _rtt(self, ts_ns: int) -> int:
        return ts_ns - (self._sent_ns or ts_ns)

    def _udp(self, pkt: Received) -> None:
        check = check_udp(pkt.packet)
        p = self.probe
        if check is None:
            self.malformed += 1
            return
        if (check.src, check.sport, check.dst, check.dport) != (p.dst, p.dport, p.src, p.sport):
            self.unrelated += 1
            return
        self.check, self.rtt_ns = check, self._rtt(pkt.ts_ns)
        self._finish("reply", pkt.ts_ns)
        self._events.append(Answered(check, self.tries, pkt.ts_ns, self.rtt_ns))

    def _icmp(self, pkt: Received) -> None:
        icmp = parse_ip(pkt.packet)
        if icmp is None or not icmp.cksum_ok:
            self.malformed += 1
            return
        q, p = icmp.quote, self.probe
        if q is None or (q.src, q.dst, q.proto, q.ports) != (p.src, p.dst, PROTO_UDP,
                                                               (p.sport, p.dport)):
            self.unrelated += 1
            return
        if icmp.kind not in _FINAL_ERRORS:
            self.unrelated += 1
            return
        no_server = icmp.kind == "unreachable" and icmp.code == (
            ICMP6_UNREACH_NOPORT if icmp.version == 6 else ICMP_UNREACH_PORT)
        self.icmp, self.rtt_ns = icmp, self._rtt(pkt.ts_ns)
        self._finish("no-server" if no_server else "icmp-error", pkt.ts_ns)
        self._events.append(IcmpError(icmp, self.tries, pkt.ts_ns, self.rtt_ns, no_server))
