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
from rawtools.tools.sniff.tcpseq import TcpSequences
from rawtools.tools.sniff.timestamps import Timestamps, TsStyle
from rawtools.tools.sniff.transport import TransportText
from rawtools.tools.sniff.walk import Damage, Fields
from rawtools.wire.link import LINKTYPE_ETHERNET

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


class Decoder:
    """Decodes the packets of one capture (one link type) into text or records.

    Keeps per-capture state tcpdump also keeps: the previous timestamp for
    `-ttt` and the first sequence numbers of each TCP connection, so that
    sequence and ack numbers print relative to them as tcpdump's do.
    """

    def __init__(self, linktype: int, *, numeric: bool = True, verbose: int = 0,
                 link_header: bool = False, ts_style: TsStyle = "abs",
                 hexdump: DumpStyle | None = None, time_zone_utc: bool = False,
                 absolute_seq: bool = False,
                 tracker: type[TcpSequences] = TcpSequences) -> None:
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
        self.time_zone_utc = time_zone_utc
        self.malformed = 0
        self._stamp = timestamps.stamp
        self._damage = damage = Damage()
        addresses = Addresses()
        # The TCP sequence tracker, None for absolute numbers; public for the helper,
        # which keeps the parent's up to date with its connections (see `replay`).
        self.seqs = seqs = None if absolute_seq else tracker()
        transport = TransportText(damage, verbose, seqs)
        ip = IpText(transport, addresses, damage, verbose, names_protocol(linktype, link_header))
        self._link = LinkText(linktype, ip, addresses, damage, link_header, verbose)
        # A tunnel's inner frame (VXLAN) reads as a frame of an Ethernet capture would.
        inner = LinkText(LINKTYPE_ETHERNET, ip, addresses, damage, link_header, verbose)
        transport.ether = lambda frame, length: inner.frame(frame, length, None)
        transport.payload = inner.payload
        transport.ppp = lambda frame, at, length: ip.ppp(frame, at, length, 1)
        plain_ether = linktype == LINKTYPE_ETHERNET and not link_header
        self.splittable = plain_ether and ts_style != "delta"
        # The fast batch loop of lines(), where only plain decoding can happen.
        self._fast: BatchTexts | None = (
            batch_texts(self.line, self._stamp, addresses, seqs)
            if plain_ether and not verbose and not hexdump else None)

    def twin(self, tracker: type[TcpSequences]) -> Decoder:
        """A decoder of the same options with another kind of sequence tracker (see
        `TcpProbe`): its lines are this one's wherever no TCP origins are read."""
        return Decoder(self.linktype, numeric=self.numeric, verbose=self.verbose,
                       link_header=self.link_header, ts_style=self.ts_style,
                       hexdump=self.hexdump, time_zone_utc=self.time_zone_utc,
                       absolute_seq=self.absolute_seq, tracker=tracker)

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
