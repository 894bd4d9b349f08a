"""Link-layer decapsulation: where the network-layer packet starts in a frame.

Every tool that reads a capture (sniff, and ping/trace replaying a tcpdump
file) first has to skip a link header whose shape depends on the capture's
link type. Each link type answers the same question here, so callers get one
vocabulary whatever the capture: an EtherType for the payload (IPv4 0x0800,
IPv6 0x86DD, ARP 0x0806, ...), the payload's offset in the frame, and the
link-level facts tcpdump's `-e` prints (hardware addresses, VLAN tags, the
Linux "cooked" packet type).

Numbers are pcap LINKTYPE values, plus the platform DLT values a live libpcap
handle reports for the same thing (DLT_RAW is 12, or 14 on OpenBSD). Link
types that use an address family instead of an EtherType (NULL, LOOP) or
none at all (RAW) are mapped onto EtherTypes so that no caller needs a second
dispatch. Nothing here raises on bad input: a frame too short for its link
header decapsulates to None.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import NamedTuple

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
DLT_RAW = 12
DLT_RAW_OPENBSD = 14
LINKTYPE_SLIP = 8
LINKTYPE_PPP = 9
LINKTYPE_RAW = 101
LINKTYPE_C_HDLC = 104
LINKTYPE_FRELAY = 107
LINKTYPE_ARCNET_LINUX = 129
LINKTYPE_IEEE802_11_RADIOTAP = 127  # no EtherType to give: sniff's printers read it
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_NFLOG = 239
LINKTYPE_LINUX_SLL2 = 276
# Frames of a switch chip's CPU port, with the chip's tag (rawtools.tools.sniff.printers.switchtag).
LINKTYPE_DSA_TAG_BRCM = 281
LINKTYPE_DSA_TAG_BRCM_PREPEND = 282
LINKTYPE_DSA_TAG_DSA = 284
LINKTYPE_DSA_TAG_EDSA = 285

ETHERTYPE_IP = 0x0800
ETHERTYPE_ARP = 0x0806
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_8021Q = 0x8100
ETHERTYPE_8021AD = 0x88A8
ETHERTYPE_QINQ_OLD = 0x9100
# The other EtherTypes tcpdump names in -e output.
ETHERTYPE_REVARP = 0x8035
ETHERTYPE_MPLS = 0x8847
ETHERTYPE_MPLS_MULTI = 0x8848
ETHERTYPE_PPPOED = 0x8863
ETHERTYPE_PPPOES = 0x8864
ETHERTYPE_EAPOL = 0x888E
ETHERTYPE_LLDP = 0x88CC
ETHERTYPE_MACSEC = 0x88E5
ETHERTYPE_PTP = 0x88F7
ETHERTYPE_LOOPBACK = 0x9000
ETHERTYPE_SLOW = 0x8809
ETHERTYPE_TCPCOMP = 0x876B
ETHERTYPE_ERSPAN = 0x88BE
ETHERTYPE_NSH = 0x894F
ETHERTYPE_TRILL = 0x22F3
ETHERTYPE_IPX = 0x8137
ETHERTYPE_ATALK = 0x809B
ETHERTYPE_AARP = 0x80F3
ETHERTYPE_TEB = 0x6558
# Cisco HDLC's protocol for OSI PDUs (IS-IS, CLNP, ES-IS), which tcpdump also reads
# behind an Ethernet header: the PDU starts with its NLPID.
ETHERTYPE_OSI = 0xFEFE
# Linux's pseudo-EtherTypes (if_ether.h), which LINUX_SLL also carries: an
# 802.3 frame whose type field is a length holds LLC (or Novell's raw IPX).
ETH_P_802_3 = 0x0001
ETH_P_802_2 = 0x0004

# The packet types of Linux cooked captures (if_packet.h): who the packet was for.
PACKET_HOST = 0
PACKET_BROADCAST = 1
PACKET_MULTICAST = 2
PACKET_OTHERHOST = 3
PACKET_OUTGOING = 4

# BSD address families in NULL/LOOP headers that mean IPv6 differ by OS.
_AF_INET = 2
_AF_INET6 = frozenset({10, 24, 28, 30})
_VLAN_TPIDS = frozenset({ETHERTYPE_8021Q, ETHERTYPE_8021AD, ETHERTYPE_QINQ_OLD})
_ARPHRD_NETLINK = 824

# tcpdump's name and description of each link type read here, as its header
# line shows them ("link-type EN10MB (Ethernet)"); the name alone is what the
# decoders call the link.
LINK_TYPES: dict[int, tuple[str, str]] = {
    LINKTYPE_NULL: ("NULL", "BSD loopback"),
    LINKTYPE_ETHERNET: ("EN10MB", "Ethernet"),
    DLT_RAW: ("RAW", "Raw IP"),
    DLT_RAW_OPENBSD: ("RAW", "Raw IP"),
    LINKTYPE_RAW: ("RAW", "Raw IP"),
    LINKTYPE_PPP: ("PPP", "PPP"),
    LINKTYPE_C_HDLC: ("C_HDLC", "Cisco HDLC"),
    LINKTYPE_FRELAY: ("FRELAY", "Frame Relay"),
    LINKTYPE_LOOP: ("LOOP", "OpenBSD loopback"),
    LINKTYPE_ARCNET_LINUX: ("ARCNET_LINUX", "Linux ARCNET"),
    LINKTYPE_LINUX_SLL: ("LINUX_SLL", "Linux cooked v1"),
    LINKTYPE_IPV4: ("IPV4", "Raw IPv4"),
    LINKTYPE_IPV6: ("IPV6", "Raw IPv6"),
    LINKTYPE_NFLOG: ("NFLOG", "Linux netfilter log messages"),
    LINKTYPE_LINUX_SLL2: ("LINUX_SLL2", "Linux cooked v2"),
    LINKTYPE_DSA_TAG_BRCM: ("DSA_TAG_BRCM", "Broadcom tag"),
    LINKTYPE_DSA_TAG_BRCM_PREPEND: ("DSA_TAG_BRCM_PREPEND", "Broadcom tag (prepended)"),
    LINKTYPE_DSA_TAG_DSA: ("DSA_TAG_DSA", "Marvell DSA"),
    LINKTYPE_DSA_TAG_EDSA: ("DSA_TAG_EDSA", "Marvell EDSA"),
}
# The names alone, derived from the table above.
NAMES = {linktype: name for linktype, (name, _) in LINK_TYPES.items()}


def describe(linktype: int) -> str:
    """tcpdump's `NAME (description)` of a link type, or its number if unknown here."""
    known = LINK_TYPES.get(linktype)
    return f"{known[0]} ({known[1]})" if known else str(linktype)


_H = struct.Struct("!H")
_SLL = struct.Struct("!HHH8sH")
_SLL2 = struct.Struct("!H2xiHBB8s")
_LE32 = struct.Struct("<I")
_BE32 = struct.Struct("!I")


# (TPID, TCI) of each VLAN tag, outermost first.
Vlans = tuple[tuple[int, int], ...]


class LinkInfo(NamedTuple):
    """What the link header said, for `-e` output and JSON.

    `src`/`dst` are raw hardware addresses (b"" where the link has none).
    `vlans` holds (TPID, TCI) of each 802.1Q/802.1ad tag, outermost first.
    `pkttype`, `hatype` and `ifindex` are the Linux cooked-capture fields
    (-1 where absent); `family` is the NULL/LOOP address family; `length`
    is the 802.3 length field of a frame without an EtherType.
    """

    src: bytes = b""
    dst: bytes = b""
    vlans: Vlans = ()
    pkttype: int = -1
    hatype: int = -1
    ifindex: int = -1
    family: int = -1
    length: int = -1


Decap = tuple[int | None, int, LinkInfo]
_NO_INFO = LinkInfo()


def _vlan_tags(frame: bytes, etype: int, off: int) -> tuple[int, int, Vlans] | None:
    """Skip stacked VLAN tags starting at `off`; None if one is cut short."""
    tags: list[tuple[int, int]] = []
    while etype in _VLAN_TPIDS:
        if len(frame) < off + 4:
            return None
        tags.append((etype, _H.unpack_from(frame, off)[0]))
        etype = _H.unpack_from(frame, off + 2)[0]
        off += 4
    return etype, off, tuple(tags)


def _ethernet(frame: bytes) -> Decap | None:
    if len(frame) < 14:
        return None
    etype = _H.unpack_from(frame, 12)[0]
    if etype in _VLAN_TPIDS:
        tagged = _vlan_tags(frame, etype, 14)
        if tagged is None:
            return None
        etype, off, vlans = tagged
    else:
        off, vlans = 14, ()
    length = -1
    if etype <= 1500:
        # A length, not a type: Novell's raw 802.3 starts with 0xffff, the rest is LLC.
        length = etype
        etype = ETH_P_802_3 if frame[off:off + 2] == b"\xff\xff" else ETH_P_802_2
    return etype, off, LinkInfo(frame[6:12], frame[0:6], vlans, length=length)


# Where a switch chip's tag sits in a frame of each of its link types, and its length:
# after the addresses (in place of the EtherType, which follows it) or before them.
SWITCH_TAGS: dict[int, tuple[int, int]] = {
    LINKTYPE_DSA_TAG_BRCM: (12, 4), LINKTYPE_DSA_TAG_BRCM_PREPEND: (0, 4),
    LINKTYPE_DSA_TAG_DSA: (12, 4), LINKTYPE_DSA_TAG_EDSA: (12, 8)}


def _switch_tagged(linktype: int) -> Callable[[bytes], Decap | None]:
    """The decapsulation of an Ethernet frame with a switch tag: the frame without it."""
    at, size = SWITCH_TAGS[linktype]

    def decap(frame: bytes) -> Decap | None:
        if len(frame) < at + size:
            return None
        found = _ethernet(frame[:at] + frame[at + size:])
        return None if found is None else (found[0], found[1] + size, found[2])
    return decap


def _cooked_payload(frame: bytes, proto: int, off: int, info: LinkInfo) -> Decap | None:
    """What follows a Linux cooked header (v1 or v2): netlink, VLAN tags, or the payload."""
    if info.hatype == _ARPHRD_NETLINK:
        return None, off, info
    tagged = _vlan_tags(frame, proto, off)
    if tagged is None:
        return None
    proto, off, vlans = tagged
    return proto, off, info._replace(vlans=vlans) if vlans else info


def _sll(frame: bytes) -> Decap | None:
    if len(frame) < 16:
        return None
    pkttype, hatype, halen, addr, proto = _SLL.unpack_from(frame)
    return _cooked_payload(frame, proto, 16,
                           LinkInfo(addr[:min(halen, 8)], b"", (), pkttype, hatype))


def _sll2(frame: bytes) -> Decap | None:
    if len(frame) < 20:
        return None
    proto, ifindex, hatype, pkttype, halen, addr = _SLL2.unpack_from(frame)
    return _cooked_payload(frame, proto, 20,
                           LinkInfo(addr[:min(halen, 8)], b"", (), pkttype, hatype, ifindex))


def _family_to_type(family: int) -> int | None:
    if family == _AF_INET:
        return ETHERTYPE_IP
    if family in _AF_INET6:
        return ETHERTYPE_IPV6
    return None


def _null(frame: bytes) -> Decap | None:
    if len(frame) < 4:
        return None
    # Host byte order of whoever captured it: a family never exceeds 16 bits.
    family = _LE32.unpack_from(frame)[0]
    if family & 0xFFFF0000:
        family = _BE32.unpack_from(frame)[0]
    return _family_to_type(family), 4, LinkInfo(family=family)


def _loop(frame: bytes) -> Decap | None:
    if len(frame) < 4:
        return None
    family = _BE32.unpack_from(frame)[0]
    return _family_to_type(family), 4, LinkInfo(family=family)


def _raw(frame: bytes) -> Decap | None:
    if not frame:
        return None
    version = frame[0] >> 4
    etype = ETHERTYPE_IP if version == 4 else ETHERTYPE_IPV6 if version == 6 else None
    return etype, 0, _NO_INFO


# Linux's SLIP link type: a 16-byte header (direction, then the compressed TCP/IP
# header's room) before each IP packet. Decapsulated only: it joins LINK_TYPES once
# test_wire_link.py checks its name against tcpdump's file header too.
_SLIP_HEADER = 16


def _slip(frame: bytes) -> Decap | None:
    """SLIP: IPv4 or IPv6 by the version after the header; None (cut) without one."""
    if len(frame) <= _SLIP_HEADER:
        return None
    version = frame[_SLIP_HEADER] >> 4
    etype = ETHERTYPE_IP if version == 4 else ETHERTYPE_IPV6 if version == 6 else None
    return etype, _SLIP_HEADER, _NO_INFO


# Frame Relay's NLPIDs (RFC 2427) that stand for an EtherType here.
_NLPID_IP, _NLPID_IP6 = 0xCC, 0x8E
_NLPIDS_OSI = frozenset({0x81, 0x82, 0x83})  # CLNP, ES-IS, IS-IS: the PDU holds its NLPID


# PPP's protocol numbers (RFC 1332, 5072, 3032) of what has an EtherType here.
_PPP_TYPES = {0x0021: ETHERTYPE_IP, 0x0057: ETHERTYPE_IPV6, 0x0281: ETHERTYPE_MPLS,
              0x0283: ETHERTYPE_MPLS_MULTI}


def _ppp(frame: bytes) -> Decap | None:
    """PPP in HDLC-like framing (address 0xFF, control 0x03) or without it.

    Link control and the other network control protocols have no EtherType here.
    """
    off = 2 if frame[:2] == b"\xff\x03" else 0
    if len(frame) < off + 2:
        return None
    if frame[off] & 1:
        # The protocol field compressed to its low byte (RFC 1661 section 6.5).
        return _PPP_TYPES.get(frame[off]), off + 1, _NO_INFO
    return _PPP_TYPES.get(_H.unpack_from(frame, off)[0]), off + 2, _NO_INFO


def _chdlc(frame: bytes) -> Decap | None:
    """Cisco HDLC: address, control, then an EtherType (or 0xFEFE for OSI).

    Some routers put a byte before an OSI PDU: skipped when an OSI NLPID follows it.
    """
    if len(frame) < 4:
        return None
    etype = _H.unpack_from(frame, 2)[0]
    if etype == ETHERTYPE_OSI and len(frame) > 5 and frame[5] in _NLPIDS_OSI:
        return etype, 5, _NO_INFO
    return etype, 4, _NO_INFO


def _frelay(frame: bytes) -> Decap | None:
    """Frame Relay with a two-byte Q.922 address and RFC 2427's UI control and NLPID.

    IP and IPv6 start after the NLPID; OSI PDUs at it. Cisco's encapsulation
    has an EtherType where the control byte would be. Anything else (other
    address sizes, a pad byte, SNAP, Q.933 signalling) has no EtherType here.
    """
    if len(frame) < 4:
        return None
    if frame[0] & 1 or not frame[1] & 1:
        return None, 2, _NO_INFO
    if frame[2] != 0x03:
        return _H.unpack_from(frame, 2)[0], 4, _NO_INFO
    off = 3
    nlpid = frame[off]
    if nlpid == _NLPID_IP:
        return ETHERTYPE_IP, off + 1, _NO_INFO
    if nlpid == _NLPID_IP6:
        return ETHERTYPE_IPV6, off + 1, _NO_INFO
    if nlpid in _NLPIDS_OSI:
        return ETHERTYPE_OSI, off, _NO_INFO
    return None, off, _NO_INFO


# ARCnet's protocol ids: RFC 1051's (no fragmentation header), RFC 1201's (a split
# flag and a sequence number follow; more for an exception packet).
_ARC_1051 = {0xF0: ETHERTYPE_IP, 0xF1: ETHERTYPE_ARP}
_ARC_1201 = {0xD4: ETHERTYPE_IP, 0xD5: ETHERTYPE_ARP, 0xD6: ETHERTYPE_REVARP,
             0xC4: ETHERTYPE_IPV6}
_ARC_EXCEPTION = 0xFF


def _arcnet_linux(frame: bytes) -> Decap | None:
    """Linux's ARCnet header: source, destination, two bytes of offset, protocol id."""
    if len(frame) < 5:
        return None
    kind = frame[4]
    if kind in _ARC_1051:
        return _ARC_1051[kind], 5, _NO_INFO
    if kind not in _ARC_1201:
        return None, 5, _NO_INFO
    if len(frame) < 8:
        return None
    if frame[5] == _ARC_EXCEPTION:
        return None, 5, _NO_INFO  # an exception packet's header is not read here
    return _ARC_1201[kind], 8, _NO_INFO


_NFULA_PAYLOAD = 9
_LE16 = struct.Struct("<H")


def _nflog(frame: bytes) -> Decap | None:
    """Linux's netfilter log: family, version, group, then 4-byte aligned TLVs.

    The TLVs are in the byte order of the host that logged them, little-endian
    on the machines that write these; the packet is the payload TLV's value.
    """
    if len(frame) < 4:
        return None
    etype = _family_to_type(frame[0])
    at = 4
    while at + 4 <= len(frame):
        size, kind = _LE16.unpack_from(frame, at)[0], _LE16.unpack_from(frame, at + 2)[0]
        if size < 4:
            return None
        if kind & 0x7FFF == _NFULA_PAYLOAD:
            return etype, at + 4, _NO_INFO
        at += (size + 3) & ~3
    return None


def _ipv4(frame: bytes) -> Decap | None:
    return (ETHERTYPE_IP, 0, _NO_INFO) if frame else None


def _ipv6(frame: bytes) -> Decap | None:
    return (ETHERTYPE_IPV6, 0, _NO_INFO) if frame else None


_DECAPS: dict[int, Callable[[bytes], Decap | None]] = {
    LINKTYPE_NULL: _null,
    LINKTYPE_ETHERNET: _ethernet,
    DLT_RAW: _raw,
    DLT_RAW_OPENBSD: _raw,
    LINKTYPE_RAW: _raw,
    LINKTYPE_SLIP: _slip,
    LINKTYPE_PPP: _ppp,
    LINKTYPE_C_HDLC: _chdlc,
    LINKTYPE_FRELAY: _frelay,
    LINKTYPE_LOOP: _loop,
    LINKTYPE_ARCNET_LINUX: _arcnet_linux,
    LINKTYPE_LINUX_SLL: _sll,
    LINKTYPE_IPV4: _ipv4,
    LINKTYPE_IPV6: _ipv6,
    LINKTYPE_LINUX_SLL2: _sll2,
    LINKTYPE_NFLOG: _nflog,
} | {linktype: _switch_tagged(linktype) for linktype in SWITCH_TAGS}


def untagged_ethertype(frame: bytes) -> int:
    """The EtherType of an untagged Ethernet II frame, else 0 (then use `decap`).

    Nearly every frame is one, and a reader that prints no link facts can
    take the payload at offset 14 without building a `LinkInfo`.
    """
    if len(frame) < 14:
        return 0
    etype = frame[12] << 8 | frame[13]
    return etype if etype > 1500 and etype not in _VLAN_TPIDS else 0


def decapsulator(linktype: int) -> Callable[[bytes], Decap | None] | None:
    """The decapsulation function of `linktype`, or None if it is not supported.

    A reader looks this up once per capture rather than once per packet, which
    matters at hundreds of thousands of packets a second.
    """
    return _DECAPS.get(linktype)


def decap(linktype: int, frame: bytes) -> Decap | None:
    """(ethertype, offset, info) of `frame`, or None if truncated or unsupported.

    `ethertype` is None when the link says what the payload is in a way no
    EtherType expresses (an unknown address family, a netlink message, a RAW
    packet that is neither IPv4 nor IPv6); `offset` is still where it starts.
    """
    fn = _DECAPS.get(linktype)
    return fn(frame) if fn is not None else None
