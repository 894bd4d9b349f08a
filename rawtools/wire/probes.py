"""Traceroute probes: UDP, ICMP echo and TCP SYN, built and recognised again.

Every probe carries a small integer `tag` that the tracer chose, and every
answer (an ICMP error quoting the probe, an echo reply, a SYN-ACK or RST) is
mapped back to that tag from the answer's own bytes, never from arrival order:
answers from different hops overtake each other, arrive twice, or belong to
someone else.

Where the tag is written decides whether per-flow load balancers (which hash
addresses, protocol and ports, and for ICMP the first four bytes: type, code,
checksum) see one flow or many:

- UDP, classic: destination port `base + tag`; every probe is its own flow.
- UDP, Paris: ports fixed, the tag is the UDP checksum, steered there by two
  payload bytes; the checksum is quoted back but not hashed.
- ICMP echo: identifier fixed, sequence = tag, and two payload bytes keep the
  checksum constant, so the flow never changes (Paris by construction).
- TCP SYN: ports fixed, the tag sits in the sequence number (quoted back in
  the first eight bytes, echoed as ack-1 by the destination, never hashed).

The checksums cover the pseudo-header, so building needs the source address
the kernel will use; the io layer finds it without sending.
"""

from __future__ import annotations

import struct

from rawtools.values import frozen
from rawtools.wire import icmp as ic
from rawtools.wire.checksum import ones_sum, pseudo_header, transport_checksum
from rawtools.wire.icmp import ICMP6_ECHO, ICMP_ECHO, Icmp
from rawtools.wire.ip import PROTO_ICMP, PROTO_ICMP6, PROTO_TCP, PROTO_UDP

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from typing import Literal

    from rawtools.wire.icmp import IcmpKind

    Method = Literal["udp", "icmp", "tcp"]
    AnswerKind = IcmpKind | Literal["syn-ack", "rst"]
    """What answered a probe: an ICMP message ("time-exceeded", "unreachable",
    "echo-reply", "packet-too-big", ...) or the destination's TCP SYN-ACK / RST."""

METHODS: tuple[Method, ...] = ("udp", "icmp", "tcp")
TAG_SPACE = 0x8000
# TCP options that make a SYN look like one from a real stack (MSS, SACK
# permitted, timestamps, window scale): some firewalls drop option-less SYNs.
_TCP_OPTS = bytes.fromhex("020405b4" "0402" "080a0000000000000000" "01" "030307")
TH_SYN, TH_RST, TH_ACK = 0x02, 0x04, 0x10


def _tune_word(base_sum: int, want_cksum: int) -> int:
    """The 16-bit word that, added to a buffer summing to `base_sum`, makes its
    checksum `want_cksum` (ones'-complement arithmetic, so it always exists)."""
    return ((~want_cksum & 0xFFFF) - base_sum) % 0xFFFF


@frozen
class ProbeSpec:
    """Everything that stays fixed across the probes of one trace.

    `ident` is the ICMP identifier (the kernel's choice on a datagram socket),
    `sport` the UDP/TCP source port, `seq_base` the high half of TCP sequence
    numbers; `size` the IP datagram length traceroute prints ("60 byte packets").
    """

    method: Method
    version: int
    src: str
    dst: str
    port: int
    paris: bool
    ident: int = 0
    sport: int = 0
    seq_base: int = 0
    size: int = 60

    @property
    def proto(self) -> int:
        if self.method == "udp":
            return PROTO_UDP
        if self.method == "tcp":
            return PROTO_TCP
        return PROTO_ICMP6 if self.version == 6 else PROTO_ICMP

    @property
    def header_len(self) -> int:
        return 40 if self.version == 6 else 20

    def payload_len(self) -> int:
        """Bytes after the 8-byte UDP/ICMP header, at least the 2 tuning bytes."""
        return max(2, self.size - self.header_len - 8)

    def dport(self, tag: int) -> int:
        if self.method == "udp" and not self.paris:
            return (self.port + tag) & 0xFFFF
        return self.port

    def checksum_for(self, tag: int) -> int:
        """The constant ICMP checksum, or the UDP checksum that names `tag`."""
        if self.method == "icmp":
            return 0x5254
        return 1 + tag  # never 0 (no checksum) nor 0xffff

    def build(self, tag: int) -> bytes:
        """The probe from its transport header on: UDP datagram, ICMP message, TCP segment.

        A UDP socket is handed the payload and the port from the header; the
        header itself is what the kernel will put on the wire.
        """
        if self.method == "udp":
            return udp_header(self.src, self.dst, self.sport, self.dport(tag),
                              self._udp_payload(tag))
        if self.method == "icmp":
            return self._echo(tag)
        return self._syn(tag)

    def _udp_payload(self, tag: int) -> bytes:
        n = self.payload_len()
        if not self.paris:
            return struct.pack("!H", tag) + bytes(n - 2)
        segment = struct.pack("!HHHH", self.sport, self.port, 8 + n, 0) + bytes(n)
        base = ones_sum(pseudo_header(self.src, self.dst, PROTO_UDP, len(segment)) + segment)
        return struct.pack("!H", _tune_word(base, self.checksum_for(tag))) + bytes(n - 2)

    def _echo(self, tag: int) -> bytes:
        typ = ICMP6_ECHO if self.version == 6 else ICMP_ECHO
        n = self.payload_len()
        msg = struct.pack("!BBHHHH", typ, 0, 0, self.ident, tag, 0) + bytes(n - 2)
        if self.version == 6:
                base = ones_sum(pseudo_header(self.src, self.dst, PROTO_ICMP6, len(msg)) + msg)
        else:
            base = ones_sum(msg)
        want = self.checksum_for(tag)
        word = _tune_word(base, want)
        out = msg[:8] + struct.pack("!H", word) + msg[10:]
        if self.version == 4:
            # IPv4: the checksum field is ours to fill (the kernel fills ICMPv6).
            out = out[:2] + struct.pack("!H", want) + out[4:]
        return out

    def tcp_seq(self, tag: int) -> int:
        return ((self.seq_base & 0xFFFF) << 16) | tag

    def _syn(self, tag: int) -> bytes:
        off = (20 + len(_TCP_OPTS)) // 4
        hdr = struct.pack("!HHIIBBHHH", self.sport, self.port, self.tcp_seq(tag), 0,
                          off << 4, TH_SYN, 5840, 0, 0) + _TCP_OPTS
        ck = transport_checksum(self.src, self.dst, PROTO_TCP, hdr)
        return hdr[:16] + struct.pack("!H", ck) + hdr[18:]

    # -- recognising answers ---------------------------------------------------
    def match_quote(self, icmp: Icmp) -> int | None:
        """The tag of our probe that an ICMP error quotes, or None if not ours."""
        q = icmp.quote
        if q is None or q.dst != self.dst or q.proto != self.proto:
            return None
        if self.method == "icmp":
            echo = q.echo
            if echo is None or echo[0] != self.ident:
                return None
            return echo[1]
        ports = q.ports
        if ports is None or ports[0] != self.sport:
            return None
        if self.method == "udp":
            if self.paris:
                if ports[1] != self.port or len(q.transport) < 8:
                    return None
                ck = struct.unpack_from("!H", q.transport, 6)[0]
                return ck - 1 if 1 <= ck <= TAG_SPACE else None
            return (ports[1] - self.port) & 0xFFFF
        if ports[1] != self.port or len(q.transport) < 8:
            return None
        seq = struct.unpack_from("!I", q.transport, 4)[0]
        return self._seq_tag(seq)

    def _seq_tag(self, seq: int) -> int | None:
        if seq >> 16 != self.seq_base & 0xFFFF:
            return None
        return seq & 0xFFFF

    def match_echo_reply(self, icmp: Icmp) -> int | None:
        """The tag of an echo reply from the destination to our echo probe."""
        if self.method != "icmp" or icmp.kind != "echo-reply" or icmp.src != self.dst:
            return None
        if icmp.ident != self.ident:
            return None
        return icmp.seq

    def match_tcp(self, segment: bytes, src: str) -> tuple[int, str] | None:
        """(tag, "SA" or "R") of the destination's answer to one of our SYNs."""
        if self.method != "tcp" or src != self.dst or len(segment) < 14:
            return None
        sport, dport, _seq, ack, _off, flags = struct.unpack_from("!HHIIBB", segment)
        if sport != self.port or dport != self.sport:
            return None
        if not flags & TH_ACK:
            return None
        tag = self._seq_tag((ack - 1) & 0xFFFFFFFF)
        if tag is None:
            return None
        if flags & TH_RST:
            return tag, "R"
        if flags & TH_SYN:
            return tag, "SA"
        return None


def udp_header(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    """UDP header plus `payload` with the checksum the kernel would compute.

    The io layer needs it to show (record, rebuild from the error queue) what
    a UDP socket really sent, since the socket hides its own header.
    """
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ck = transport_checksum(src, dst, PROTO_UDP, seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", ck) + seg[8:]


# Unreachable codes as traceroute annotates them; the port unreachable is no
# annotation at all: it is the destination saying "arrived".
_UNREACH4 = {
    ic.ICMP_UNREACH_NET: "!N", ic.ICMP_UNREACH_NET_UNKNOWN: "!N", ic.ICMP_UNREACH_ISOLATED: "!N",
    ic.ICMP_UNREACH_TOSNET: "!N", ic.ICMP_UNREACH_HOST: "!H", ic.ICMP_UNREACH_HOST_UNKNOWN: "!H",
    ic.ICMP_UNREACH_TOSHOST: "!H", ic.ICMP_UNREACH_PROTOCOL: "!P", ic.ICMP_UNREACH_SRCFAIL: "!S",
    ic.ICMP_UNREACH_NET_PROHIB: "!X", ic.ICMP_UNREACH_HOST_PROHIB: "!X",
    ic.ICMP_UNREACH_FILTER_PROHIB: "!X", ic.ICMP_UNREACH_HOST_PRECEDENCE: "!V",
    ic.ICMP_UNREACH_PRECEDENCE_CUTOFF: "!C",
}
# ICMPv6 (RFC 4443): traceroute names only these four; "beyond scope of source
# address" counts as host unreachable, and the newer codes (policy failure,
# reject route, ...) print as !<code>.
_UNREACH6 = {
    ic.ICMP6_UNREACH_NOROUTE: "!N", ic.ICMP6_UNREACH_ADMIN: "!X",
    ic.ICMP6_UNREACH_BEYONDSCOPE: "!H", ic.ICMP6_UNREACH_ADDR: "!H",
}


def classify_error(icmp: Icmp) -> tuple[AnswerKind, str, bool]:
    """(kind, traceroute's annotation, whether the path ends here) for an ICMP error.

    A time-exceeded in transit is a router on the way; anything else ends the path at
    the hop that sent it, and only the destination's port unreachable (UDP
    probes arriving) goes without an annotation such as !H or !F-1400.
    """
    if icmp.kind == "time-exceeded" and icmp.code == ic.ICMP_TIMXCEED_INTRANS:  # = ICMPv6 0
        # In transit. A fragment reassembly timeout (code 1) comes from the host
        # that reassembles: traceroute ends there and prints it as !<11-1>.
        return "time-exceeded", "", False
    if icmp.kind == "packet-too-big" or (icmp.version == 4 and icmp.type == ic.ICMP_UNREACH
                                          and icmp.code == ic.ICMP_UNREACH_NEEDFRAG):
        return "packet-too-big", f"!F-{icmp.mtu or 0}", True
    if icmp.kind == "unreachable":
        port_code = ic.ICMP_UNREACH_PORT if icmp.version == 4 else ic.ICMP6_UNREACH_NOPORT
        if icmp.code == port_code:
            return "unreachable", "", True
        table = _UNREACH4 if icmp.version == 4 else _UNREACH6
        return "unreachable", table.get(icmp.code, f"!<{icmp.code}>"), True
    return icmp.kind, f"!<{icmp.type}-{icmp.code}>", True
