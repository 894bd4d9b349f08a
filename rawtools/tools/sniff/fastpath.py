"""The batch loop for the common case: plain Ethernet, text, no -v/-e/-x.

Per-packet Python work is what limits a Python sniffer, so for the packets
nearly every capture is made of (untagged or 802.1Q-tagged Ethernet -> IPv4
without options or IPv6 without extension headers -> TCP, UDP (DNS
included) or ICMP) this loop reads the headers with one `struct` unpack
each and formats the line in one f-string, with every lookup bound to a
local once per capture. Whatever leaves that happy path goes, before it has
touched any state, to the per-packet decoder, so the text is always the
same as `Decoder.line()`'s; the state both paths keep (the timestamp
formatter, the TCP sequence tracker, the address caches) is the same object.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from rawtools.io.capture import Packet
from rawtools.tools.sniff import dns, icmptext, tcpopts
from rawtools.tools.sniff.iptext import IP_OFFMASK, Addresses
from rawtools.tools.sniff.printers import ports
from rawtools.tools.sniff.tcpseq import TcpSequences
from rawtools.tools.sniff.transport import (
    DNS_PORT,
    DNS_PORTS,
    SEQ_FLAGS,
    TCP_FLAGS,
    TCP_HEADER,
    TH_ACK,
    TH_SYN,
    TH_URG,
    UDP_HEADER,
)
from rawtools.tools.sniff.walk import TRUNCATED
from rawtools.wire.ip import (
    IP4_HEADER_LEN,
    IP6_HEADER_LEN,
    PROTO_ICMP,
    PROTO_ICMP6,
    PROTO_TCP,
    PROTO_UDP,
)
from rawtools.wire.link import ETHERTYPE_8021Q, ETHERTYPE_IP, ETHERTYPE_IPV6

# The fast path's view of an untagged Ethernet frame (or, read 4 bytes on,
# of one with an 802.1Q tag): EtherType, then the IPv4 fields it needs
# (version/IHL, total length, flags/fragment offset, protocol, addresses)
# or the IPv6 header, in one unpack each.
_ETH_IP4 = struct.Struct("!12xHBxH2xHxB2x4s4s")
_ETH_IP6 = struct.Struct("!12xHIHB1x16s16s")
# A TCP header followed by the options of nearly every segment after the
# handshake, nop, nop, timestamps (kind 8, length 10), in one unpack: their
# kinds and lengths as one number, then the two values.
_TCP_TS = struct.Struct("!HHIIBBHHHIII")
_TCP_TS_LEN = 32
_TS_WORDS = _TCP_TS_LEN // 4  # that header's length as its data offset field gives it
_NOP_NOP_TS_KINDS = 0x0101080A
_ACK_SYN_URG = TH_ACK | TH_SYN | TH_URG
_HEADS_MAX = 65536  # connections' line heads kept (see `_tcp_text`)
_ETH_LEN, _VLAN_LEN = 14, 4
_IP4_PLAIN = 0x45  # version 4, a 20-byte header: no options
# The transports the loop decodes itself, over each IP version.
_FAST4 = (PROTO_TCP, PROTO_UDP, PROTO_ICMP)
_FAST6 = (PROTO_TCP, PROTO_UDP, PROTO_ICMP6)
# Where the transport header starts in an untagged frame, after IPv4 without
# options and after IPv6.
_TRANSPORT4 = _ETH_LEN + IP4_HEADER_LEN
_TRANSPORT6 = _ETH_LEN + IP6_HEADER_LEN
# The shortest frame the loop looks at: Ethernet and an IPv6 header (an IPv4
# header and a UDP header fit in it too); what it reads further on, it checks.
_MIN_FRAME = _TRANSPORT6
_MIN_TAGGED = _MIN_FRAME + _VLAN_LEN

# texts(batch) -> (the lines, how many of them this loop found damaged)
BatchTexts = Callable[[list[Packet]], tuple[list[str], int]]
Line = Callable[[int, bytes, int], str]
Stamp = Callable[[int], str]
# The transports' lines: (ts, frame, offset, payload length, "IP "/"IP6 ",
# source text, destination text, and what each needs besides) -> the line,
# or None when the packet must go the slow way (nothing has changed then).
# TCP also takes the raw addresses (the connection's key), ICMP the protocol.
_Tcp = Callable[[int, bytes, int, int, str, str, str, bytes, bytes], str | None]
_Udp = Callable[[int, bytes, int, int, str, str, str], str | None]
_Icmp = Callable[[int, bytes, int, int, str, str, str, int], str | None]


def batch_texts(line: Line, stamp: Stamp, addresses: Addresses,
                seqs: TcpSequences | None) -> BatchTexts:
    """The fast loop, falling back to `line` for every packet it does not take.

    `stamp` and `seqs` (None: absolute sequence numbers) are the decoder's
    own, so that both paths share their state.
    """
    damaged = [0]
    tcp = _tcp_text(stamp, seqs, damaged)
    udp = _udp_text(stamp, damaged)
    icmp = _icmp_text(stamp, damaged)
    a4, a6, text4, text6 = addresses.v4, addresses.v6, addresses.text4, addresses.text6
    eth_ip4, eth_ip6 = _ETH_IP4.unpack_from, _ETH_IP6.unpack_from

    def texts(batch: list[Packet]) -> tuple[list[str], int]:
        out: list[str] = []
        add = out.append
        for ts, d, olen in batch:
            text = None
            if len(d) >= _MIN_FRAME:
                et = d[12] << 8 | d[13]
                v = 0
                # One 802.1Q tag (printed only with -e, which never comes here)
                # moves everything 4 bytes on.
                if et == ETHERTYPE_8021Q and len(d) >= _MIN_TAGGED:
                    et = d[16] << 8 | d[17]
                    v = _VLAN_LEN
                if et == ETHERTYPE_IP:
                    _, vihl, tlen, frag, proto, s, t = eth_ip4(d, v)
                    # A later fragment carries no transport header.
                    if vihl != _IP4_PLAIN or frag & IP_OFFMASK or tlen < IP4_HEADER_LEN \
                            or tlen > olen - _ETH_LEN - v or proto not in _FAST4:
                        proto = 0
                    name, o, plen = "IP ", _TRANSPORT4 + v, tlen - IP4_HEADER_LEN
                    src, dst = a4.get(s) or text4(s), a4.get(t) or text4(t)
                elif et == ETHERTYPE_IPV6:
                    _, vtcfl, plen, proto, s, t = eth_ip6(d, v)
                    o = _TRANSPORT6 + v
                    if vtcfl >> 28 != 6 or o + plen > olen or proto not in _FAST6:
                        proto = 0
                    name = "IP6 "
                    src, dst = a6.get(s) or text6(s), a6.get(t) or text6(t)
                else:
                    proto = 0
                if proto == PROTO_TCP:
                    text = tcp(ts, d, o, plen, name, src, dst, s, t)
                elif proto == PROTO_UDP:
                    text = udp(ts, d, o, plen, name, src, dst)
                elif proto:
                    text = icmp(ts, d, o, plen, name, src, dst, proto)
            add(text or line(ts, d, olen))
        bad, damaged[0] = damaged[0], 0
        return out, bad

    return texts


def _tcp_text(stamp: Stamp, seqs: TcpSequences | None, damaged: list[int]) -> _Tcp:
    """The TCP line: nearly every segment the quick way, any other by `_any_tcp_text`.

    Nearly every segment is a known connection's, with ACK and without SYN or
    URG, and carries only the timestamps option: its line is one f-string,
    with no parts to build and join. Anything else (a handshake, other
    options, a new connection, a short frame) goes to the general function,
    which reads the header again.
    """
    general = _any_tcp_text(stamp, seqs, damaged)
    if seqs is None:
        return general
    origins = seqs.origins.get
    header_ts = _TCP_TS.unpack_from
    flag_text = TCP_FLAGS
    payload = _tcp_payload(damaged)
    payload_ports = _payload_ports()
    # A connection's direction -> its lines' text up to the flags: the same for every
    # segment, and most of a line's parts.
    heads: dict[tuple[bytes, int, bytes, int], str] = {}

    def _head(conn: tuple[bytes, int, bytes, int], name: str, src: str, dst: str) -> str:
        if len(heads) >= _HEADS_MAX:
            heads.clear()
        head = heads[conn] = f"{name}{src}.{conn[1]} > {dst}.{conn[3]}: Flags ["
        return head

    def tcp(ts: int, d: bytes, o: int, plen: int, name: str, src: str, dst: str, s: bytes,
            t: bytes) -> str | None:
        if len(d) < o + _TCP_TS_LEN or plen < _TCP_TS_LEN:
            return general(ts, d, o, plen, name, src, dst, s, t)
        sport, dport, seq, ack, offx, flags, win, _, _, kinds, val, ecr = header_ts(d, o)
        conn = (s, sport, t, dport)
        if flags & _ACK_SYN_URG != TH_ACK or kinds != _NOP_NOP_TS_KINDS \
                or offx >> 4 != _TS_WORDS or (state := origins(conn)) is None:
            return general(ts, d, o, plen, name, src, dst, s, t)
        head = heads.get(conn) or _head(conn, name, src, dst)
        seq, ack = (seq - state[0]) & 0xFFFFFFFF, (ack - state[1]) & 0xFFFFFFFF
        size = plen - _TCP_TS_LEN
        if size > 0:
            text = (f"{stamp(ts)}{head}{flag_text[flags]}]"
                    f", seq {seq}:{(seq + size) & 0xFFFFFFFF}, ack {ack}, win {win}, "
                    f"options [nop,nop,TS val {val} ecr {ecr}], length {size}")
            if sport in payload_ports or dport in payload_ports:
                return text + payload(d, o + _TCP_TS_LEN, o + plen, size, sport, dport)
            return text
        return (f"{stamp(ts)}{head}{flag_text[flags]}]"
                f"{f', seq {seq}' if flags & SEQ_FLAGS else ''}, ack {ack}, win {win}, "
                f"options [nop,nop,TS val {val} ecr {ecr}], length 0")

    return tcp


def _payload_ports() -> frozenset[int]:
    """Segments worth asking `_tcp_payload` about: a port with a printer here (a port
    whose printer tcpdump has and this decoder lacks can still outrank it: the
    payload function decides)."""
    return frozenset(p for p, entry in ports.TCP.items() if entry[1] is not None)


def _any_tcp_text(stamp: Stamp, seqs: TcpSequences | None, damaged: list[int]) -> _Tcp:
    relative = seqs.relative if seqs is not None else None
    # The tracker's table, read here directly for the segments of a known connection
    # (nearly all of them); a new connection or a SYN goes through `relative`.
    origins = seqs.origins.get if seqs is not None else None
    header, header_ts = TCP_HEADER.unpack_from, _TCP_TS.unpack_from
    flag_text = TCP_FLAGS
    options = tcpopts.options
    payload = _tcp_payload(damaged)
    payload_ports = _payload_ports()

    def tcp(ts: int, d: bytes, o: int, plen: int, name: str, src: str, dst: str, s: bytes,
            t: bytes) -> str | None:
        if len(d) >= o + _TCP_TS_LEN:
            sport, dport, seq, ack, offx, flags, win, _, urp, kinds, val, ecr = header_ts(d, o)
        elif len(d) >= o + 20:
            sport, dport, seq, ack, offx, flags, win, _, urp = header(d, o)
            kinds = val = ecr = 0
        else:
            return None
        hlen = (offx >> 4) << 2
        if hlen < 20 or hlen > plen or len(d) < o + hlen:
            return None
        size = plen - hlen
        pre = stamp(ts)
        sack_base = 0
        if flags & TH_ACK:
            if origins is not None:
                conn = (s, sport, t, dport)
                state = origins(conn)
                if state is None or flags & TH_SYN:
                    # (relative is set whenever origins is)
                    seq, ack, sack_base = relative(conn, seq, ack, flags)  # type: ignore[misc]
                else:
                    sack_base = state[1]
                    seq, ack = (seq - state[0]) & 0xFFFFFFFF, (ack - sack_base) & 0xFFFFFFFF
            ack_text = f", ack {ack}"
        else:
            ack_text = ""
        if size > 0:
            seq_text = f", seq {seq}:{(seq + size) & 0xFFFFFFFF}"
        elif flags & SEQ_FLAGS:
            seq_text = f", seq {seq}"
        else:
            seq_text = ""
        urg_text = f", urg {urp}" if flags & TH_URG else ""
        if hlen == 20:
            opt_text = ""
        elif hlen == _TCP_TS_LEN and kinds == _NOP_NOP_TS_KINDS:
            opt_text = f", options [nop,nop,TS val {val} ecr {ecr}]"
        else:
            opt_text, ok = options(d[o + 20:o + hlen], sack_base, flags, hlen - 20,
                                   len(d) >= o + plen)
            if not ok:
                # tcpdump ends the line after a bad option (and so does the per-packet walk).
                damaged[0] += 1
                return (f"{pre}{name}{src}.{sport} > {dst}.{dport}: Flags [{flag_text[flags]}]"
                        f"{seq_text}{ack_text}, win {win}{urg_text}{opt_text}")
        text = (f"{pre}{name}{src}.{sport} > {dst}.{dport}: Flags [{flag_text[flags]}]"
                f"{seq_text}{ack_text}, win {win}{urg_text}{opt_text}, length {size}")
        if size > 0 and (sport in payload_ports or dport in payload_ports):
            return text + payload(d, o + hlen, o + plen, size, sport, dport)
        return text

    return tcp


def _tcp_payload(damaged: list[int]) -> Callable[[bytes, int, int, int, int, int], str]:
    """What follows a TCP segment's length, for segments on an application's ports."""
    tcp_apps, pick, after_length = ports.TCP, ports.printer, ports.after_length

    def payload(d: bytes, o: int, end: int, size: int, sport: int, dport: int) -> str:
        app = pick(tcp_apps, sport, dport)
        if app is None:
            return ""
        summary, ok = app(d[o:end], size)
        if not ok:
            damaged[0] += 1
        return after_length(app, summary)

    return payload


def _udp_text(stamp: Stamp, damaged: list[int]) -> _Udp:
    header = UDP_HEADER.unpack_from
    dns_summary = dns.summary
    dns_ports = DNS_PORTS
    udp_apps, pick, tunnels = ports.UDP, ports.printer, ports.INNER

    def udp(ts: int, d: bytes, o: int, plen: int, name: str, src: str, dst: str) -> str | None:
        if len(d) < o + 8:
            return None
        sport, dport, ulen, _ = header(d, o)
        if ulen < 8 or ulen > plen:
            return None
        if sport in dns_ports or dport in dns_ports:
            if sport == DNS_PORT or dport == DNS_PORT:
                summary, ok = dns_summary(d[o + 8:o + ulen], ulen - 8)
            else:
                summary, ok = dns_summary(d[o + 8:o + ulen], ulen - 8, mdns=True)
            if not ok:
                damaged[0] += 1
            return f"{stamp(ts)}{name}{src}.{sport} > {dst}.{dport}: {summary}"
        if (sport in udp_apps or dport in udp_apps) \
                and (app := pick(udp_apps, sport, dport)) is not None:
            if app in tunnels:
                return None  # the inner frame is the per-packet walk's
            summary, ok = app(d[o + 8:o + ulen], ulen - 8)
            if not ok:
                damaged[0] += 1
            return f"{stamp(ts)}{name}{src}.{sport} > {dst}.{dport}: {summary}"
        return f"{stamp(ts)}{name}{src}.{sport} > {dst}.{dport}: UDP, length {ulen - 8}"

    return udp


def _icmp_text(stamp: Stamp, damaged: list[int]) -> _Icmp:
    icmp4, icmp6 = icmptext.icmp4, icmptext.icmp6

    def icmp(ts: int, d: bytes, o: int, plen: int, name: str, src: str, dst: str,
             proto: int) -> str | None:
        try:
            text = icmp4(d, o, plen) if proto == PROTO_ICMP else icmp6(d, o, plen)
        except TRUNCATED:
            return None
        if text.endswith(("[|icmp]", "[|icmp6]", "(invalid)")):
            damaged[0] += 1
        return f"{stamp(ts)}{name}{src} > {dst}: {text}"

    return icmp
