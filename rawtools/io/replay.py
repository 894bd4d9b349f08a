"""Replaying a recorded run: a pcap stands in for the network and the clock.

The recording holds what was sent and what came back, stamped in
nanoseconds. The engine runs exactly as it did live: each probe it asks to
send is matched, in order, with the next recorded outgoing datagram and
takes that datagram's timestamp; received datagrams are delivered when the
virtual clock reaches theirs; timers fire at their scheduled instant. So
the report comes out identical, with no socket and no privilege.
"""

from __future__ import annotations

import itertools

from rawtools.engine import EndOfInput, Received, Send
from rawtools.errors import ReplayError
from rawtools.io.pcapfile import read_packets
from rawtools.wire.icmp import parse_ip
from rawtools.wire.ip import IpHeader, parse_header
from rawtools.wire.link import ETHERTYPE_IP, ETHERTYPE_IPV6, NAMES, decapsulator


def _is_answer(pkt: bytes) -> bool:
    """ICMP errors and echo replies are answers even when sent by ourselves
    (the kernel reports a failed neighbour lookup from the local address)."""
    icmp = parse_ip(pkt)
    return icmp is not None and (icmp.kind == "echo-reply" or icmp.quote is not None)


class ReplayTransport:
    """A Transport over a capture of a run: `--record`'s raw IP, or tcpdump's.

    A tcpdump capture taken on the sending host while the tool ran works as
    well, once its link headers are stripped; the first IP datagram must be
    the run's first probe, which tells which address was ours.
    """

    mechanism = "replay"

    def __init__(self, path: str) -> None:
        linktype, records = read_packets(path)
        strip = decapsulator(linktype)
        if strip is None:
            raise ReplayError(f"{path}: link type {NAMES.get(linktype, linktype)} cannot be "
                              "replayed (raw IP from --record, or Ethernet/Linux cooked/"
                              "loopback captures from tcpdump)")
        recs: list[tuple[int, bytes, IpHeader]] = []
        for ts, frame in records:
            d = strip(frame)
            if d is not None and d[0] in (ETHERTYPE_IP, ETHERTYPE_IPV6):
                pkt = frame[d[1]:]
                h = parse_header(pkt)
                if h is not None:
                    recs.append((ts, pkt, h))
        if not recs:
            raise ReplayError(f"{path}: no IP packets to replay")
        self.local = recs[0][2].src
        # Outgoing: (timestamp, datagram, destination); incoming: (timestamp, datagram).
        self.outgoing: list[tuple[int, bytes, str]] = []
        self.incoming: list[tuple[int, bytes]] = []
        for ts, pkt, h in recs:
            if h.src == self.local and not _is_answer(pkt):
                self.outgoing.append((ts, pkt, h.dst))
            else:
                self.incoming.append((ts, pkt))
        self.first_outgoing = self.outgoing[0][1] if self.outgoing else recs[0][1]
        self.clock = recs[0][0]
        self._out = 0
        self._in = 0

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

    def send(self, send: Send) -> tuple[int, bytes | None]:
        if self._out >= len(self.outgoing):
            raise EndOfInput
        ts, pkt, recorded = self.outgoing[self._out]
        if recorded != send.dst:
            raise ReplayError(f"the recording diverges at probe {self._out + 1}: it went to "
                              f"{recorded}, this run sends to {send.dst}; replay with the "
                              "options of the recorded run")
        self._out += 1
        self.clock = max(self.clock, ts)
        return ts, pkt

    def wait(self, deadline_ns: int | None, wake_fd: int | None = None) -> list[Received]:
        """The next recorded arrival, unless the engine's next probe came first.

        Arrivals recorded after the next outgoing probe are held back until the
        engine has sent it: live, that reply could not have come earlier, and
        delivering it first would make it look unsolicited. A replay never
        sleeps, so `wake_fd` has nothing to interrupt.
        """
        if self._in < len(self.incoming):
            ts, pkt = self.incoming[self._in]
            probe_first = self._out < len(self.outgoing) and self.outgoing[self._out][0] <= ts
            if not probe_first and (deadline_ns is None or ts <= deadline_ns):
                self._in += 1
                self.clock = max(self.clock, ts)
                return [Received(ts, pkt, "pcap")]
        if deadline_ns is None:
            raise EndOfInput
        self.clock = max(self.clock, deadline_ns)
        return []

    def close(self) -> None:
        pass
