"""One packet in, one tcpdump-style line (or one JSON record) out.

`Decoder` is what the capture side calls for every packet, so its cost is
the tool's speed: the hot fields (IP, UDP, TCP, ICMP headers) are read with
precompiled `struct.Struct`s at fixed offsets, address strings are cached
(traffic repeats the same few hosts), and dpkt-style object trees are never
built. The same walk serves `line()` and `record()`: it fills a field dict
only when one is passed, so text output pays nothing for JSON.

The walk is split by layer, each in its own module: `linktext` (the link
header, ARP), `iptext` (IPv4, IPv6), `transport` (UDP, TCP, ICMP, checksum
notes), with `timestamps`, `dump` (-x/-X/-A) and `tcpseq` (relative sequence
numbers) beside them. `fastpath` is the batch loop for plain Ethernet text
output; it shares the timestamp formatter, the sequence tracker and the
address caches with the per-packet walk, and hands it every packet it does
not take, so the two always print the same.

Names are always printed numerically: a reverse lookup per address would
make the decoder wait on the network, and `-n` is then the only mode there
is (tcpdump's `-n` output, which is also what tshark comparisons need).

A packet that is cut short or lies about its own lengths is printed up to
the damage and marked the way tcpdump marks it (`[|udp]`, `bad-len`,
`truncated-ip`), counted in `malformed`, and never raises.
"""

from __future__ import annotations

from typing import Any

from rawtools.io.capture import Packet
from rawtools.jsonout import record as json_record
from rawtools.tools.sniff.dump import DUMP_STYLES, DumpStyle, dump
from rawtools.tools.sniff.fastpath import BatchTexts, batch_texts
from rawtools.tools.sniff.iptext import Addresses, IpText
from rawtools.tools.sniff.linktext import LinkText, names_protocol
from rawtools.tools.sniff.printers import ports
from rawtools.tools.sniff.tcpseq import TcpSequences
from rawtools.tools.sniff.timestamps import Timestamps, TsStyle
from rawtools.tools.sniff.transport import TransportText
from rawtools.tools.sniff.walk import Damage, Fields
from rawtools.wire.ip import PROTO_ICMP, PROTO_ICMP6, PROTO_UDP
from rawtools.wire.link import ETHERTYPE_ARP, ETHERTYPE_IP, ETHERTYPE_IPV6, LINKTYPE_ETHERNET

# What `stateless` looks at in an untagged Ethernet frame: the IPv4 version and
# header length, protocol and UDP ports (after a 20-byte header), the IPv6
# next header and UDP ports.
_IP4_VIHL_AT, _IP4_PROTO_AT, _UDP4_AT = 14, 14 + 9, 14 + 20
_IP6_NEXT_AT, _UDP6_AT = 14 + 6, 14 + 40
_IP4_PLAIN = 0x45
_STATELESS_MIN = 14 + 20
_MAX_SNAPLEN = 262144  # tcpdump's MAXIMUM_SNAPLEN: longer records are not real


def _invalid_header(caplen: int, orig_len: int) -> str:
    """tcpdump's whole line (no timestamp) for a record whose lengths cannot be, else ""."""
    problems = []
    if caplen == 0:
        problems.append(" caplen==0")
    if orig_len == 0:
        problems.append(" len==0")
    elif orig_len < caplen:
        problems.append(f" len({orig_len}) < caplen({caplen})")
    if caplen > _MAX_SNAPLEN:
        problems.append(f" caplen({caplen}) > {_MAX_SNAPLEN}")
    if orig_len > _MAX_SNAPLEN:
        problems.append(f" len({orig_len}) > {_MAX_SNAPLEN}")
    return "[Invalid header:" + ",".join(problems) + "]" if problems else ""


def _plain_udp(d: bytes, at: int, tunnel: frozenset[int]) -> bool:
    """Whether the UDP header at `at` has no tunnel's port (or is cut before its ports)."""
    return len(d) < at + 4 or ((d[at] << 8 | d[at + 1]) not in tunnel
                               and (d[at + 2] << 8 | d[at + 3]) not in tunnel)


class Decoder:
    """Decodes the packets of one capture (one link type) into text or records.

    Keeps per-capture state tcpdump also keeps: the previous timestamp for
    `-ttt` and the first sequence numbers of each TCP connection, so that
    sequence and ack numbers print relative to them as tcpdump's do.
    """

    def __init__(self, linktype: int, *, numeric: bool = True, verbose: int = 0,
                 link_header: bool = False, ts_style: TsStyle = "abs",
                 hexdump: DumpStyle | None = None, time_zone_utc: bool = False,
                 absolute_seq: bool = False) -> None:
        timestamps = Timestamps(ts_style, utc=time_zone_utc)
        if hexdump is not None and hexdump not in DUMP_STYLES:
            raise ValueError(f"unknown dump style {hexdump!r}")
        self.linktype = linktype
        self.numeric = numeric
        self.verbose = verbose
        self.link_header = link_header
        self.ts_style = ts_style
        self.hexdump = hexdump
        self.absolute_seq = absolute_seq
        self.malformed = 0
        self._stamp = timestamps.stamp
        self._damage = damage = Damage()
        addresses = Addresses()
        seqs = None if absolute_seq else TcpSequences()
        transport = TransportText(damage, verbose, seqs)
        ip = IpText(transport, addresses, damage, verbose, names_protocol(linktype, link_header))
        self._link = LinkText(linktype, ip, addresses, damage, link_header, verbose)
        # A tunnel's inner frame (VXLAN) reads as a frame of an Ethernet capture would.
        inner = LinkText(LINKTYPE_ETHERNET, ip, addresses, damage, link_header, verbose)
        transport.ether = lambda frame, length: inner.frame(frame, length, None)
        transport.ppp = lambda frame, at, length: ip.ppp(frame, at, length, 1)
        plain_ether = linktype == LINKTYPE_ETHERNET and not link_header
        self.splittable = plain_ether and ts_style != "delta"
        # The fast batch loop of lines(), where only plain decoding can happen.
        self._fast: BatchTexts | None = (
            batch_texts(self.line, self._stamp, addresses, seqs)
            if plain_ether and not verbose and not hexdump else None)

    def line(self, ts_ns: int, data: bytes, orig_len: int) -> str:
        """The full text for one packet, without a trailing newline."""
        damage = self._damage
        damage.bad = False
        invalid = _invalid_header(len(data), orig_len)
        if invalid:
            self.malformed += 1
            return invalid
        text = self._link.frame(data, orig_len, None)
        if damage.bad:
            self.malformed += 1
        if self.hexdump:
            text += dump(data[self._link.payload_offset(data):], self.hexdump)
        return self._stamp(ts_ns) + text

    def record(self, ts_ns: int, data: bytes, orig_len: int) -> dict[str, Any]:
        """The decoded fields of one packet, as a `rawtools/1` JSON object."""
        damage = self._damage
        damage.bad = False
        fields: Fields = {"ts_ns": ts_ns, "caplen": len(data), "len": orig_len,
                          "link": self._link.name}
        text = self._link.frame(data, orig_len, fields)
        if damage.bad:
            self.malformed += 1
        return json_record("sniff", "packet", **fields, malformed=damage.bad, summary=text)

    def lines(self, batch: list[Packet]) -> str:
        """The text of a whole batch of packets, one line each, newline-terminated.

        Same bytes as joining `line()` over the batch, only faster where the
        fast loop applies (plain Ethernet text output, no -v/-e/-x; see
        `rawtools.tools.sniff.fastpath`).
        """
        return "\n".join(self.texts(batch)) + "\n"

    def texts(self, batch: list[Packet]) -> list[str]:
        """`line()` of every packet of `batch`, the fast way (see `lines()`)."""
        if self._fast is None:
            line = self.line
            return [line(*p) for p in batch]
        out, bad = self._fast(batch)
        self.malformed += bad
        return out

    def stateless(self, batch: list[Packet]) -> list[bool]:
        """Which packets of `batch` print the same whatever was decoded before them.

        Everything else may read or move per-capture state (TCP sequence
        origins, the -ttt clock), so only these can be decoded by another
        process: untagged Ethernet carrying ARP, ICMP directly in IPv4 or
        IPv6, or UDP there unless either port is a tunnel's (its inner frame
        can be TCP). False for all when the timestamp style is -ttt.
        """
        if not self.splittable:
            return [False] * len(batch)
        # A tunnel's datagram (VXLAN, OTV, L2TP) can carry TCP, whose state stays here.
        tunnel = ports.TUNNEL_PORTS
        # One expression, no call per packet: the helper runs this on every packet.
        return [len(d) >= _STATELESS_MIN and (
            ((p := d[_IP4_PROTO_AT]) == PROTO_ICMP or (p == PROTO_UDP
             and d[_IP4_VIHL_AT] == _IP4_PLAIN and _plain_udp(d, _UDP4_AT, tunnel)))
            if (et := d[12] << 8 | d[13]) == ETHERTYPE_IP
            else ((p := d[_IP6_NEXT_AT]) == PROTO_ICMP6
                  or (p == PROTO_UDP and _plain_udp(d, _UDP6_AT, tunnel)))
            if et == ETHERTYPE_IPV6
            else et == ETHERTYPE_ARP)
            for _, d, _ in batch]
