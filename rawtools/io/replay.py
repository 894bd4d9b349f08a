"""Replaying a recorded run: a pcap stands in for the network and the clock.

The recording holds what was sent and what came back, stamped in
nanoseconds. The engine runs exactly as it did live: each probe it asks to
send is matched, in order, with the next recorded outgoing datagram and
takes that datagram's timestamp; received datagrams are delivered when the
virtual clock reaches theirs; timers fire at their scheduled instant. So
the report comes out identical, with no socket and no privilege.

A replay must never describe a run other than the recorded one. Each probe
the engine sends is checked against the recorded one (destination, TTL when
the tool sets it, the fields that name the probe, the time it left), and
asking for a probe the recording does not hold, or ending with recorded
probes unsent, is a divergence too: `ReplayDiverged`, one line, exit 3. A
file cut short (an interrupted capture) replays up to its last whole record;
a damaged one (a record of length 0, garbage in a raw-IP file) is refused.
"""

from __future__ import annotations

import itertools
import struct

from rawtools.engine import EndOfInput, Received, Send
from rawtools.errors import ReplayDiverged, ReplayError
from rawtools.io.pcapfile import read_packets
from rawtools.wire.icmp import parse_ip
from rawtools.wire.ip import PROTO_ICMP, PROTO_ICMP6, PROTO_TCP, PROTO_UDP, IpHeader, parse_header
from rawtools.wire.link import ETHERTYPE_IP, ETHERTYPE_IPV6, LINKTYPE_RAW, NAMES, decapsulator

PCAP_MAGICS = (0xA1B2C3D4, 0xA1B23C4D)
MAX_RECORD = 262144
"""The largest record libpcap writes (its MAXIMUM_SNAPLEN); a longer one is damage."""
SEND_SLACK_NS = 50_000_000
"""How far a probe's recorded departure may lie from the instant the replayed engine
sends it: live, a send leaves a little after the engine asked (a loop turn, a
busy machine); a gap larger than this means the run keeps another schedule."""


def _is_answer(pkt: bytes) -> bool:
    """ICMP errors and echo replies are answers even when sent by ourselves
    (the kernel reports a failed neighbour lookup from the local address)."""
    icmp = parse_ip(pkt)
    return icmp is not None and (icmp.kind == "echo-reply" or icmp.quote is not None)


def identity(proto: int, transport: bytes) -> tuple[int, ...]:
    """The fields that tell one probe from another: what a replay compares.

    ICMP: type, code, identifier, sequence and length (not the checksum, which
    covers a ping's timestamp). UDP: ports, length and checksum (Paris traceroute's
    tag). TCP: ports and sequence number (the tag of a TCP trace).
    """
    if proto in (PROTO_ICMP, PROTO_ICMP6):
        t = transport[:8].ljust(8, b"\0")
        return (proto, t[0], t[1], *struct.unpack_from("!HH", t, 4), len(transport))
    if proto in (PROTO_UDP, PROTO_TCP):
        return (proto, *struct.unpack("!HHI", transport[:8].ljust(8, b"\0")))
    return (proto,)


def describe(proto: int, transport: bytes, ttl: int | None) -> str:
    """A probe in the few words that tell two apart."""
    ident = identity(proto, transport)
    hops = "" if ttl is None else f"TTL {ttl}, "
    if proto in (PROTO_ICMP, PROTO_ICMP6):
        return f"{hops}ICMP type {ident[1]} id {ident[3]} seq {ident[4]}, {ident[5]} bytes"
    if proto == PROTO_UDP:
        return f"{hops}UDP {ident[1]} > {ident[2]} checksum {ident[3] & 0xFFFF:#06x}"
    if proto == PROTO_TCP:
        return f"{hops}TCP {ident[1]} > {ident[2]} seq {ident[3]}"
    return f"{hops}protocol {proto}"


def _after_last_record(path: str, consumed: int) -> int | None:
    """What follows the `consumed` bytes of a classic pcap that were read as whole records.

    None: the file ends there (or is pcapng, whose reader says nothing more).
    Otherwise the length the next record claims, -1 if not even its header is
    whole: a record cut short, or a length no libpcap writes.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(4)
            f.seek(consumed)
            rec = f.read(16)
    except OSError:
        return None
    if len(head) < 4 or not rec:
        return None
    for endian in "<>":
        if struct.unpack(endian + "I", head)[0] in PCAP_MAGICS:
            return struct.unpack(endian + "I", rec[8:12])[0] if len(rec) == 16 else -1
    return None


class ReplayTransport:
    """A Transport over a capture of a run: `--record`'s raw IP, or tcpdump's.

    A tcpdump capture taken on the sending host while the tool ran works as
    well, once its link headers are stripped; the first IP datagram must be
    the run's first probe, which tells which address was ours. With
    `probes`, what the engine sends is the probe from its transport header
    on (ping, trace), and each is checked against the recorded one. With
    `end_at_cut`, a file cut short ends the run at its last whole record.
    With `eager`, arrivals come as soon as the file's order allows, even past
    the deadline the engine waits for: a live loop that woke late read them
    before anything else, and an engine that decides every timeout by the
    stamps of what it is handed (trace's) reaches the same state either way.
    """

    mechanism = "replay"

    def __init__(self, path: str, probes: bool = True, end_at_cut: bool = False,
                 eager: bool = False) -> None:
        self.path = path
        self.probes = probes
        self.end_at_cut = end_at_cut
        self.eager = eager
        linktype, records = read_packets(path)
        strip = decapsulator(linktype)
        if strip is None:
            raise ReplayError(f"{path}: link type {NAMES.get(linktype, linktype)} cannot be "
                              "replayed (raw IP from --record, or Ethernet/Linux cooked/"
                              "loopback captures from tcpdump)")
        recs: list[tuple[int, bytes, IpHeader]] = []
        consumed, count = 24, 0
        for ts, frame in records:
            count += 1
            consumed += 16 + len(frame)
            d = strip(frame)
            h = None
            if d is not None and d[0] in (ETHERTYPE_IP, ETHERTYPE_IPV6):
                h = parse_header(frame[d[1]:])
            if not frame or (h is None and linktype == LINKTYPE_RAW):
                what = "a record of length 0" if not frame else "not an IP datagram"
                raise ReplayError(f"{path}: corrupt at record {count} ({what})")
            if h is not None and d is not None:
                recs.append((ts, frame[d[1]:], h))
        claimed = _after_last_record(path, consumed)
        if claimed is not None and claimed > MAX_RECORD:
            raise ReplayError(f"{path}: corrupt at record {count + 1} (it claims {claimed} "
                              "bytes)")
        # The first record that is not whole, if the file was cut short.
        self.cut_at = None if claimed is None else count + 1
        if not recs:
            raise ReplayError(f"{path}: no IP packets to replay")
        self.local = recs[0][2].src
        # Our address in each IP version is the source of that version's first
        # datagram (a run sends before anything answers it): a ping of IPv4
        # and IPv6 targets together records from two.
        local: dict[int, str] = {}
        for _ts, _pkt, h in recs:
            local.setdefault(h.version, h.src)
        # Outgoing: (timestamp, datagram, destination); incoming: (timestamp, datagram),
        # and for each, how many outgoing datagrams the file holds before it.
        self.outgoing: list[tuple[int, bytes, str]] = []
        self.incoming: list[tuple[int, bytes]] = []
        self._sent_before: list[int] = []
        for ts, pkt, h in recs:
            if h.src == local[h.version] and not _is_answer(pkt):
                self.outgoing.append((ts, pkt, h.dst))
            else:
                self.incoming.append((ts, pkt))
                self._sent_before.append(len(self.outgoing))
        self.first_outgoing = self.outgoing[0][1] if self.outgoing else recs[0][1]
        self.clock = recs[0][0]
        self.end = max(ts for ts, _, _ in recs)
        self._out = 0
        self._in = 0

    @property
    def version(self) -> int:
        """The IP version of the recorded run."""
        h = parse_header(self.first_outgoing)
        return h.version if h is not None else 4

    def destinations(self) -> list[str]:
        """Destinations of the recorded probes, first appearance order."""
        return list(dict.fromkeys(dst for _, _, dst in self.outgoing))

    def send_gap_ns(self) -> int | None:
        """Median time between recorded probes to one destination: the interval."""
        by_dst: dict[str, list[int]] = {}
        for ts, _, dst in self.outgoing:
            by_dst.setdefault(dst, []).append(ts)
        gaps = sorted(b - a for times in by_dst.values() for a, b in itertools.pairwise(times))
        return gaps[len(gaps) // 2] if gaps else None

    def now(self) -> int:
        return self.clock

    def diverged(self, what: str) -> ReplayDiverged:
        return ReplayDiverged(f"{self.path}: the replay diverges at {what}; replay with the "
                              "options of the recorded run")

    def send(self, send: Send) -> tuple[int, bytes | None]:
        n = self._out + 1
        if self._out >= len(self.outgoing):
            if self.cut_at is not None:
                raise EndOfInput
            raise self.diverged(f"probe {n}: the recording ends after probe {n - 1}, this "
                                f"run sends another to {send.dst}")
        ts, pkt, recorded = self.outgoing[self._out]
        if recorded != send.dst:
            raise self.diverged(f"probe {n}: it went to {recorded}, this run sends to "
                                f"{send.dst}")
        if self.probes:
            self._check(n, send, pkt)
        if abs(ts - self.clock) > SEND_SLACK_NS and n > 1:
            raise self.diverged(f"probe {n}: it left {(ts - self.clock) / 1e9:+.3f} s from "
                                "when this run sends it")
        self._out += 1
        self.clock = max(self.clock, ts)
        return ts, pkt

    def _check(self, n: int, send: Send, pkt: bytes) -> None:
        h = parse_header(pkt)
        assert h is not None  # only IP datagrams are kept
        theirs = pkt[h.offset:]
        ttl = h.ttl if send.ttl is not None else None
        if send.ttl not in (None, h.ttl) or identity(h.proto, theirs) != identity(h.proto,
                                                                                   send.data):
            raise self.diverged(f"probe {n}: the recording sent {describe(h.proto, theirs, ttl)}"
                                f", this run sends {describe(h.proto, send.data, send.ttl)}")

    def finish(self, interrupted: bool) -> None:
        """After a run that ended by itself: every recorded probe must have been sent."""
        left = len(self.outgoing) - self._out
        if not interrupted and left > 0:
            raise self.diverged(f"the end: this run sent {self._out} probes, the recording "
                                f"holds {len(self.outgoing)}")

    def cut_short(self) -> ReplayError:
        """What to say when the run needed more than a truncated file kept."""
        return ReplayError(f"{self.path}: cut short at record {self.cut_at} (a truncated "
                           f"file): the replay stops at its end")

    def remaining(self) -> list[Received]:
        """The recorded arrivals not delivered yet (what survives past the last probe)."""
        rest = [Received(ts, pkt, "pcap") for ts, pkt in self.incoming[self._in:]]
        self._in = len(self.incoming)
        return rest

    def wait(self, deadline_ns: int | None, wake_fd: int | None = None) -> list[Received]:
        """The recorded arrivals up to the engine's next probe or deadline, together.

        A recording holds what the tool sent and received in the order it did
        so (a capture, in the order of the wire): an arrival that follows the
        next outgoing probe in the file is held back until the engine has sent
        it. Live, the tool handled that reply only after sending the probe,
        even when the reply's stamp is earlier (it came in while the tool was
        sending), and delivering it first would change what the engine knew
        when it chose that probe. The arrivals before it come in one batch:
        live, the engine sent nothing between them (or its probe would lie
        between them), and seeing them one at a time it might send, after the
        first, a probe that all of them together rule out. A replay never
        sleeps, so `wake_fd` has nothing to interrupt.
        """
        out: list[Received] = []
        while self._in < len(self.incoming):
            ts, pkt = self.incoming[self._in]
            probe_first = self._out < self._sent_before[self._in]
            if probe_first or (deadline_ns is not None and ts > deadline_ns and not self.eager):
                break
            self._in += 1
            self.clock = max(self.clock, ts)
            out.append(Received(ts, pkt, "pcap"))
        if out:
            return out
        if deadline_ns is None or (self.end_at_cut and self.cut_at is not None
                                   and self._in == len(self.incoming)
                                   and deadline_ns > self.end):
            # Past the last whole record of a file cut short nothing is known:
            # with `end_at_cut`, a probe whose answer was cut off does not time
            # out as if lost (a tool that counts it lost, as ping does, goes on).
            raise EndOfInput
        self.clock = max(self.clock, deadline_ns)
        return []

    def close(self) -> None:
        pass

