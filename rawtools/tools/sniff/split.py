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
# The shortest frame looked at: Ethernet, an IPv4 header without options and the ports.
_MIN_FRAME = _ETH_LEN + 24
_PARENT, _HELPER = 0, 1
# What a probed packet weighs against one the fast loop decodes (see `Split._work`).
_PROBED = 4
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
    """What the headers tell of each packet: True when it touches no TCP connection,
    the connection's key for plain TCP, False when only decoding it can tell."""
    tunnel = ports.TUNNEL_PORTS
    out: list[Key | bool] = []
    add = out.append
    for _, d, _ in batch:
        kind: Key | bool = False
        if len(d) >= _MIN_FRAME:
            et = d[12] << 8 | d[13]
            v = _ETH_LEN
            if et == ETHERTYPE_8021Q:
                et = d[16] << 8 | d[17]
                v += _VLAN_LEN
            if et == ETHERTYPE_IP and len(d) >= v + 24:
                p = d[v + 9]
                if p == PROTO_TCP:
                    # A later fragment carries no TCP header.
                    if d[v + 6] & 0x1F or d[v + 7]:
                        kind = True
                    elif d[v] == _IP4_PLAIN:
                        kind = d[v + 12:v + 24]
                elif p == PROTO_ICMP:
                    kind = True
                elif p == PROTO_UDP and d[v] == _IP4_PLAIN:
                    kind = _plain_udp(d, v + 20, tunnel)
            elif et == ETHERTYPE_IPV6 and len(d) >= v + 44:
                p = d[v + 6]
                if p == PROTO_TCP:
                    kind = d[v + 8:v + 44]
                elif p == PROTO_ICMP6:
                    kind = True
                elif p == PROTO_UDP:
                    kind = _plain_udp(d, v + 40, tunnel)
            elif et == ETHERTYPE_ARP:
                kind = True
        add(kind)
    return out


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
        found = kinds(batch)
        if self.splitting:
            plan = self._split(batch, found)
            if plan is not None:
                return plan
            self.splitting = False
        return share([k is True for k in found]), {}

    def _split(self, batch: list[Packet], found: list[Key | bool]) -> Plan | None:
        """The plan with connections kept whole; None where the split must stop."""
        work, owner = self._work, self._owner.get
        mask = bytearray(len(batch))
        free: list[int] = []
        known: dict[int, str] = {}
        for i, kind in enumerate(found):
            if kind is True:
                free.append(i)
                continue
            if kind is False:
                line, conns = self._touched(batch[i])
                work[_HELPER] += _PROBED
                if not conns:
                    known[i] = line
                    mask[i] = _HELPER
                    continue
                side = self._side(conns)
                weight = _PROBED
            else:
                side = owner(kind)
                if side is None:
                    side = self._side([kind])
                weight = 1
            if side is None:
                return None
            mask[i] = side
            work[side] += weight
        self._even(mask, free)
        return bytes(mask), known

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
