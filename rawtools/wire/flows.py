"""Probes whose flow is chosen: the flow identifiers of multipath tracing.

A per-flow load balancer hashes the addresses, the protocol and the first
four bytes of the transport header (ports; for ICMP type, code and
checksum), and sends every packet of one hash down one path. Paris
traceroute keeps those bytes fixed to stay on one path; the Multipath
Detection Algorithm numbers flows and changes exactly those bytes from one
flow to the next, while each flow keeps them across TTLs and retries so that
what one flow shows at hop h and at hop h+1 is one path. The tag that names
a single probe goes where no balancer looks, as in `rawtools.wire.probes`:

- UDP: destination port `port + flow`, the tag in the checksum (Paris's
  trick, so the one UDP socket of a trace sends every flow);
- TCP: source port `sport + flow`, the tag in the sequence number;
- ICMP echo: checksum `ECHO_CKSUM + flow` (the payload is tuned to it), the
  tag in the sequence number, the identifier fixed.

A UDP or TCP answer names its flow by itself (the quoted ports, the port a
SYN-ACK is sent to), so a stray answer cannot be taken for another flow's.
An ICMP answer is known by its sequence number alone: an echo reply's
checksum is not its request's, and the error queue of an unprivileged ICMPv6
socket gives back the request without the checksum the kernel filled in.
"""

from __future__ import annotations

import dataclasses
import struct

from rawtools.values import frozen
from rawtools.wire.icmp import Icmp
from rawtools.wire.probes import ProbeSpec

ECHO_CKSUM = 0x1000
"""The ICMP checksum of flow 0; flows count up from it, never reaching 0xffff."""


@frozen
class _EchoFlow(ProbeSpec):
    """An echo probe of one flow: the checksum the payload is tuned to is the flow's."""

    cksum: int = ECHO_CKSUM

    def checksum_for(self, tag: int) -> int:
        return self.cksum


@frozen
class FlowProbes:
    """Probes of numbered flows derived from one trace's fixed identity `spec`."""

    spec: ProbeSpec

    @property
    def max_flows(self) -> int:
        """How many flows the header field leaves room for above its base value."""
        if self.spec.method == "udp":
            return 0x10000 - self.spec.port
        if self.spec.method == "tcp":
            return 0x10000 - self.spec.sport
        return 0xFFFF - ECHO_CKSUM

    def of(self, flow: int) -> ProbeSpec:
        """The fixed identity of `flow`: a Paris probe spec whose hashed bytes are the flow's."""
        s = self.spec
        if s.method == "udp":
            return dataclasses.replace(s, port=s.port + flow, paris=True)
        if s.method == "tcp":
            return dataclasses.replace(s, sport=s.sport + flow)
        return _EchoFlow(**{f.name: getattr(s, f.name) for f in dataclasses.fields(s)},
                         cksum=ECHO_CKSUM + flow)

    def build(self, flow: int, tag: int) -> bytes:
        """Probe `tag` of `flow`, from its transport header on."""
        return self.of(flow).build(tag)

    def _flow(self, value: int, base: int) -> int | None:
        flow = value - base
        return flow if 0 <= flow < self.max_flows else None

    def match(self, icmp: Icmp) -> tuple[int | None, int] | None:
        """(flow, tag) of the probe an ICMP error quotes or an echo reply answers.

        The flow is None where the answer does not state it (ICMP probes):
        the tag alone names the probe then, and the engine knows its flow.
        """
        s = self.spec
        if s.method == "icmp":
            tag = s.match_echo_reply(icmp) if icmp.kind == "echo-reply" else s.match_quote(icmp)
            return None if tag is None else (None, tag)
        q = icmp.quote
        if q is None or len(q.transport) < 4:
            return None
        if s.method == "udp":
            flow = self._flow(struct.unpack_from("!H", q.transport, 2)[0], s.port)
        else:
            flow = self._flow(struct.unpack_from("!H", q.transport, 0)[0], s.sport)
        if flow is None:
            return None
        tag = self.of(flow).match_quote(icmp)
        return None if tag is None else (flow, tag)

    def match_tcp(self, segment: bytes, src: str) -> tuple[int, int, str] | None:
        """(flow, tag, "SA" or "R") of the destination's answer to one of our SYNs."""
        if self.spec.method != "tcp" or len(segment) < 4:
            return None
        flow = self._flow(struct.unpack_from("!H", segment, 2)[0], self.spec.sport)
        if flow is None:
            return None
        got = self.of(flow).match_tcp(segment, src)
        return None if got is None else (flow, *got)
