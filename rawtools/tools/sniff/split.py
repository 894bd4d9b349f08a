"""Which of the two decoding processes of `sniff -r` decodes each packet.

The helper (rawtools.tools.sniff.helper) decides, for each batch, and sends
its decision with its lines. Only one thing a packet's line can depend on
is per-capture state here: the TCP sequence origins of its connection
(`tcpseq`; -ttt, the other, is never split). So each TCP connection (its
4-tuple, either direction) belongs to one process, the one with less work
when it first appears, and every segment of it is decoded there; packets
that touch no connection go wherever they even out the work.

Plain TCP (IPv4 without options, or IPv6, in untagged or 802.1Q Ethernet)
is told by its headers, and so are ARP, ICMP and plain UDP, which touch no
connection. Anything else could hold a segment anywhere (a tunnel, an IP
option, an extension header), so the helper decodes it with a probe decoder
whose tracker only notes the connections it is asked about: without any,
the probe's line is the packet's and the helper keeps it; with some, the
packet goes where they belong.

When one packet would tie connections of both processes together, or the
connections grow past `MAX_CONNECTIONS` (where a single tracker starts again
from nothing, which two could not do alike), the split stops: from that
batch on the helper takes connection-free packets only and the parent, whose
tracker has been following the helper's connections all along (see
`TcpSequences.replay`), decodes every segment.
"""

from __future__ import annotations

import struct

from rawtools.io.capture import Packet
from rawtools.tools.sniff.decode import Decoder
from rawtools.tools.sniff.printers import ports
from rawtools.tools.sniff.tcpseq import MAX_CONNECTIONS, TcpProbe
from rawtools.wire.ip import PROTO_ICMP, PROTO_ICMP6, PROTO_TCP, PROTO_UDP
from rawtools.wire.link import ETHERTYPE_8021Q, ETHERTYPE_ARP, ETHERTYPE_IP, ETHERTYPE_IPV6

# A connection as this module keys it: the bytes of its source and destination
# addresses and ports as the IP and TCP headers hold them, in one slice.
Key = bytes
_PORTS = struct.Struct("!HH")
_ETH_LEN, _VLAN_LEN = 14, 4
_IP4_PLAIN = 0x45  # version 4, a 20-byte header: no options
_IP4_PLAIN_HEAD = bytes([ETHERTYPE_IP >> 8, ETHERTYPE_IP & 0xFF, _IP4_PLAIN])
# The shortest frame looked at: Ethernet, an IPv4 header without options and the ports.
_MIN_FRAME = _ETH_LEN + 24
_PARENT, _HELPER = 0, 1
# What a probed packet weighs against one the fast loop decodes (see `Split._work`).
_PROBED = 4
# What planning a batch costs the helper, in packets per packet of the batch: placing
# each packet, and sending its lines while the parent only reads them (callgrind: the
# helper ran 25 % more instructions than the parent without it).
_PLANNING = 0.2
# A batch's plan: which packets the helper decodes (1) and which the parent does (0),
# and the lines of the helper's packets that the probe already decoded, by index.
Plan = tuple[bytes, dict[int, str]]


def share(free: list[bool]) -> bytes:
    """Which packets of a batch the helper decodes once connections are no longer split:
    connection-free ones only, half the batch at most.

    The parent keeps the others and, when they are fewer than half, the first
    free ones up to half, so that a batch of nothing but free packets (`udp
    port 53`) is shared too.
    """
    mask = list(free)
    need = len(mask) // 2 - mask.count(False)
    if need > 0:
        i = -1
        for _ in range(need):
            i = mask.index(True, i + 1)
            mask[i] = False
    return bytes(mask)


def kinds(batch: list[Packet]) -> list[Key | bool]:
    """What the headers tell of each packet (see `_kind`)."""
    tunnel = ports.TUNNEL_PORTS
    return [_kind(d, tunnel) for _, d, _ in batch]


def _kind(d: bytes, tunnel: frozenset[int]) -> Key | bool:
    """What the headers tell of a frame: True when it touches no TCP connection, the
    connection's key for plain TCP, False when only decoding it can tell."""
    if len(d) < _MIN_FRAME:
        return False
    et = d[12] << 8 | d[13]
    v = _ETH_LEN
    if et == ETHERTYPE_8021Q:
        et = d[16] << 8 | d[17]
        v += _VLAN_LEN
    if et == ETHERTYPE_IP:
        if len(d) < v + 24:
            return False
        p = d[v + 9]
        if p == PROTO_TCP:
            # A later fragment carries no TCP header.
            if d[v + 6] & 0x1F or d[v + 7]:
                return True
            return d[v + 12:v + 24] if d[v] == _IP4_PLAIN else False
        if p == PROTO_UDP:
            return d[v] == _IP4_PLAIN and _plain_udp(d, v + 20, tunnel)
        return p == PROTO_ICMP
    if et == ETHERTYPE_IPV6:
        if len(d) < v + 44:
            return False
        p = d[v + 6]
        if p == PROTO_TCP:
            return d[v + 8:v + 44]
        if p == PROTO_UDP:
            return _plain_udp(d, v + 40, tunnel)
        return p == PROTO_ICMP6
    return et == ETHERTYPE_ARP


def _plain_udp(d: bytes, at: int, tunnel: frozenset[int]) -> bool:
    """Whether the UDP header at `at` has no tunnel's port (a tunnel's frame can hold TCP)."""
    return (d[at] << 8 | d[at + 1]) not in tunnel and (d[at + 2] << 8 | d[at + 3]) not in tunnel


def _reverse(key: Key) -> Key:
    """The key of the other direction of the connection."""
    half = (len(key) - 4) // 2
    return key[half:2 * half] + key[:half] + key[-2:] + key[-4:-2]


class Split:
    """The helper's record of which process owns which connection, and its plan for each
    batch."""

    def __init__(self, decoder: Decoder) -> None:
        self._probe = decoder.twin(TcpProbe)
        # Either direction of a connection -> the process decoding it.
        self._owner: dict[Key, int] = {}
        self._connections = 0
        # The work given to each process so far, in packets of the fast loop: where
        # a new connection and the free packets go.
        self._work = [0, 0]
        # False once connections are no longer split (see the module's docstring);
        # with absolute sequence numbers no packet touches any.
        self.splitting = decoder.seqs is not None

    def plan(self, batch: list[Packet]) -> Plan:
        """Which packets of `batch` the helper decodes, and those it has decoded already."""
        if self.splitting:
            plan = self._split(batch)
            if plan is not None:
                return plan
            self.splitting = False
        return share([k is True for k in kinds(batch)]), {}

    def _split(self, batch: list[Packet]) -> Plan | None:
        """The plan with connections kept whole; None where the split must stop.

        `kinds` and the owners in one pass: this runs on every packet of the capture.
        """
        owner, tunnel = self._owner.get, ports.TUNNEL_PORTS
        mask = bytearray(len(batch))
        free: list[int] = []
        odd: list[int] = []
        for i, (_, d, _) in enumerate(batch):
            # `_kind` inline for untagged IPv4 without options: most of a capture.
            if d.startswith(_IP4_PLAIN_HEAD, 12) and len(d) >= _MIN_FRAME:
                p = d[23]
                if p == PROTO_TCP:
                    kind: Key | bool = True if d[20] & 0x1F or d[21] else d[26:38]
                else:
                    kind = p == PROTO_ICMP or (p == PROTO_UDP and _plain_udp(d, 34, tunnel))
            else:
                kind = _kind(d, tunnel)
            if kind is True:
                free.append(i)
            elif kind is False:
                odd.append(i)
            else:
                side = owner(kind)
                if side is None:
                    side = self._side([kind])
                    if side is None:
                        return None
                mask[i] = side
        helper = mask.count(_HELPER)
        work = self._work
        work[_HELPER] += helper + int(len(batch) * _PLANNING)
        work[_PARENT] += len(batch) - len(free) - len(odd) - helper
        known = self._place(batch, odd, mask)
        if known is None:
            return None
        self._even(mask, free)
        return bytes(mask), known

    def _place(self, batch: list[Packet], odd: list[int], mask: bytearray
               ) -> dict[int, str] | None:
        """Where the packets only decoding can place go (see the module's docstring), and
        the lines of those the probe decoded for good; None where the split must stop."""
        work = self._work
        known: dict[int, str] = {}
        for i in odd:
            line, conns = self._touched(batch[i])
            work[_HELPER] += _PROBED
            if not conns:
                known[i] = line
                mask[i] = _HELPER
                continue
            side = self._side(conns)
            if side is None:
                return None
            mask[i] = side
            work[side] += _PROBED
        return known

    def _touched(self, packet: Packet) -> tuple[str, list[Key]]:
        """The probe's line for `packet`, and the connections whose state it would read
        or set."""
        probe = self._probe
        asked = probe.seqs.asked  # type: ignore[union-attr]  # (always a TcpProbe)
        asked.clear()
        line = probe.line(*packet)
        return line, [s + t + _PORTS.pack(sport, dport) for s, sport, t, dport in asked]

    def _side(self, conns: list[Key]) -> int | None:
        """The process owning all of `conns` (new ones go to the one with less work);
        None when they belong to both, or when there are too many connections."""
        owner = self._owner
        sides = {owner[c] for c in conns if c in owner}
        if len(sides) > 1:
            return None
        work = self._work
        side = sides.pop() if sides else int(work[_HELPER] < work[_PARENT])
        for key in conns:
            if key not in owner:
                self._connections += 1
                owner[key] = owner[_reverse(key)] = side
                # Counted here too, so that the new connections of a batch alternate.
                work[side] += 1
        # Past the limit a single tracker would have started again: two cannot.
        return side if self._connections <= MAX_CONNECTIONS else None

    def _even(self, mask: bytearray, free: list[int]) -> None:
        """Give the helper as many of the batch's free packets as evens out the work."""
        work = self._work
        take = min(len(free), max(0, (work[_PARENT] + len(free) - work[_HELPER]) // 2))
        work[_HELPER] += take
        work[_PARENT] += len(free) - take
        for i in free[:take]:
            mask[i] = _HELPER
