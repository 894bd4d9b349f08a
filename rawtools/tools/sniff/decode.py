"""One packet in, one tcpdump-style line (or one JSON record) out.

`Printer` is what the capture side calls for every packet, so its cost is
the tool's speed: the hot fields (IP, UDP, TCP, ICMP headers) are read with
precompiled `struct.Struct`s at fixed offsets, address strings are cached
(traffic repeats the same few hosts), and dpkt-style object trees are never
built. The same walk serves `line()` and `record()`: it fills a field dict
only when one is passed, so text output pays nothing for JSON.

Names are always printed numerically: a reverse lookup per address would
make the decoder wait on the network, and `-n` is then the only mode there
is (tcpdump's `-n` output, which is also what tshark comparisons need).

A packet that is cut short or lies about its own lengths is printed up to
the damage and marked the way tcpdump marks it (`[|udp]`, `bad-len`,
`truncated-ip`), counted in `malformed`, and never raises.
"""

from __future__ import annotations

import socket
import struct
import time

from rawtools.jsonout import record as json_record
from rawtools.tools.sniff import dns, icmptext, tcpopts
from rawtools.wire import link
from rawtools.wire.checksum import inet_checksum, ones_sum

_IP4 = struct.Struct("!BBHHHBBH4s4s")
_IP6 = struct.Struct("!IHBB16s16s")
_UDP = struct.Struct("!HHHH")
_TCP = struct.Struct("!HHIIBBHHH")
_ARP = struct.Struct("!HHBBH")
_HH = struct.Struct("!HH")
_II = struct.Struct("!II")
# The fast path's view of an untagged Ethernet frame (or, read 4 bytes on,
# of one with an 802.1Q tag): EtherType, then the IPv4 fields it needs
# (version/IHL, total length, flags/fragment offset, protocol, addresses)
# or the IPv6 header, in one unpack each.
_ETH_IP4 = struct.Struct("!12xHBxH2xHxB2x4s4s")
_ETH_IP6 = struct.Struct("!12xHIHB1x16s16s")
_NOP_NOP_TS = b"\x01\x01\x08\x0a"

_ETHERTYPES = {
    0x0800: "IPv4", 0x0806: "ARP", 0x8035: "Reverse ARP", 0x86DD: "IPv6", 0x8100: "802.1Q",
    0x88A8: "802.1Q-QinQ", 0x9100: "802.1Q-9100", 0x8847: "MPLS unicast",
    0x8848: "MPLS multicast", 0x8863: "PPPoE D", 0x8864: "PPPoE S", 0x888E: "EAPOL",
    0x88CC: "LLDP", 0x88E5: "MACsec", 0x88F7: "PTP", 0x9000: "Loopback", 0x8809: "Slow Protocols",
    0x876B: "TCP/IP compression", 0x88BE: "ERSPAN", 0x894F: "NSH", 0x22F3: "TRILL",
    0x8137: "IPX", 0x809B: "Appletalk", 0x80F3: "Appletalk ARP", 0x6558: "Transparent Ethernet",
}
_IP_PROTOS = {
    0: "Options", 1: "ICMP", 2: "IGMP", 4: "IPIP", 6: "TCP", 17: "UDP", 41: "IPv6", 43: "Routing",
    44: "Fragment", 47: "GRE", 50: "ESP", 51: "AH", 58: "ICMPv6", 59: "none", 60: "DSTOPT",
    89: "OSPF", 103: "PIM", 112: "VRRP", 132: "SCTP",
}
_SLL_TYPES = {0: "In", 1: "B", 2: "M", 3: "P", 4: "Out"}
_TOS_ECN = {1: ",ECT(1)", 2: ",ECT(0)", 3: ",CE"}
_IP_OPTS = {0: "EOL", 1: "NOP", 7: "RR", 68: "TS", 130: "security", 131: "LSRR", 137: "SSRR",
            148: "RA"}
# tcpdump's flag letters in its order; the index is the TCP flags byte.
_FLAG_LETTERS = ((0x01, "F"), (0x02, "S"), (0x04, "R"), (0x08, "P"), (0x10, "."), (0x20, "U"),
                 (0x40, "E"), (0x80, "W"))
_TCP_FLAGS = tuple("".join(c for bit, c in _FLAG_LETTERS if b & bit) or "none"
                   for b in range(256))
_V6_EXT = {0: "HBH", 60: "DSTOPT", 135: "MOBILITY"}
_TRUNC = (struct.error, IndexError, ValueError)
_DNS_PORTS = frozenset({53, 5353})
_MAX_DEPTH = 3  # IP-in-IP nesting decoded before falling back
_TCP_STATE_MAX = 65536


def _mac(raw: bytes) -> str:
    return raw.hex(":")


def _etype_name(etype: int) -> str:
    return _ETHERTYPES.get(etype, "Unknown")


class Printer:
    """Decodes the packets of one capture (one link type) into text or records.

    Keeps per-capture state tcpdump also keeps: the previous timestamp for
    `-ttt` and the first sequence numbers of each TCP connection, so that
    sequence and ack numbers print relative to them as tcpdump's do.
    """

    def __init__(self, linktype: int, *, numeric: bool = True, verbose: int = 0,
                 link_header: bool = False, ts_style: str = "abs", hexdump: str | None = None,
                 time_zone_utc: bool = False, absolute_seq: bool = False) -> None:
        if ts_style not in ("abs", "none", "epoch", "delta"):
            raise ValueError(f"unknown timestamp style {ts_style!r}")
        if hexdump not in (None, "x", "X", "A"):
            raise ValueError(f"unknown dump style {hexdump!r}")
        self.linktype = linktype
        self.numeric = numeric
        self.verbose = verbose
        self.link_header = link_header
        self.ts_style = ts_style
        self.hexdump = hexdump
        self.absolute_seq = absolute_seq
        self.malformed = 0
        self._decap = link.decapsulator(linktype)
        self._link_name = link.NAMES.get(linktype, f"link-type {linktype}")
        self._clock = time.gmtime if time_zone_utc else time.localtime
        self._sec = -1
        self._hms = ""
        self._prev_ns: int | None = None
        self._a4: dict[bytes, str] = {}
        self._a6: dict[bytes, str] = {}
        self._tcp: dict[tuple, list[int]] = {}
        self._bad = False
        self._plain_ether = linktype == link.LINKTYPE_ETHERNET and not link_header
        # With -e the link header already names the protocol, as in tcpdump.
        named = link_header and linktype in (link.LINKTYPE_ETHERNET, link.LINKTYPE_LINUX_SLL,
                                             link.LINKTYPE_LINUX_SLL2)
        self._p4 = "" if named else "IP "
        self.splittable = self._plain_ether and ts_style != "delta"
        # The fast batch loop of lines(), where only plain decoding can happen.
        self._fast = self._fast_lines() if (self._plain_ether and not verbose and not hexdump) \
            else None
        self._p6 = "" if named else "IP6 "
        self._parp = "" if named else "ARP, "

    # -- public interface -------------------------------------------------

    def line(self, ts_ns: int, data: bytes, orig_len: int) -> str:
        """The full text for one packet, without a trailing newline."""
        self._bad = False
        text = self._frame(data, orig_len, None)
        if self._bad:
            self.malformed += 1
        if self.hexdump:
            text += self._dump(data)
        return self._stamp(ts_ns) + text

    def record(self, ts_ns: int, data: bytes, orig_len: int) -> dict:
        """The decoded fields of one packet, as a `rawtools/1` JSON object."""
        self._bad = False
        fields: dict = {"ts_ns": ts_ns, "caplen": len(data), "len": orig_len,
                        "link": self._link_name}
        text = self._frame(data, orig_len, fields)
        if self._bad:
            self.malformed += 1
        return json_record("sniff", "packet", **fields, malformed=self._bad, summary=text)

    def lines(self, batch: list[tuple[int, bytes, int]]) -> str:
        """The text of a whole batch of packets, one line each, newline-terminated.

        Same bytes as joining `line()` over the batch, only faster: where
        nothing but the common case can happen (plain Ethernet text output,
        no -v/-e/-x), a loop with everything in locals handles untagged (or
        802.1Q-tagged) Ethernet -> IPv4 without options / IPv6 without extension headers ->
        TCP/UDP (and DNS over them) or ICMP inline, and hands any packet that leaves
        that happy path, before touching any state, to `line()`.
        """
        return "\n".join(self.texts(batch)) + "\n"

    def texts(self, batch: list[tuple[int, bytes, int]]) -> list[str]:
        """`line()` of every packet of `batch`, the fast way (see `lines()`)."""
        if self._fast is None:
            line = self.line
            return [line(*p) for p in batch]
        return self._fast(batch)

    def stateless(self, batch: list[tuple[int, bytes, int]]) -> list[bool]:
        """Which packets of `batch` print the same whatever was decoded before them.

        Everything else may read or move per-capture state (TCP sequence
        origins, the -ttt clock), so only these can be decoded by another
        process: untagged Ethernet carrying ARP, or UDP/ICMP directly in
        IPv4 or IPv6. False for all when the timestamp style is -ttt.
        """
        if not self.splittable:
            return [False] * len(batch)
        return [len(d) >= 34 and (
            (d[12] == 0x08 and (d[13] == 0x06 or (d[13] == 0x00 and (d[23] == 17 or d[23] == 1))))
            or (d[12] == 0x86 and d[13] == 0xDD and (d[20] == 17 or d[20] == 58)))
            for _, d, _ in batch]

    def _fast_lines(self) -> object:
        """Build the fast batch loop of `lines()`, its lookups bound once as locals."""
        line = self.line
        stamp = None if self.ts_style == "abs" else self._stamp
        clock = self._clock
        strftime = time.strftime
        a4, a6, addr4, addr6 = self._a4, self._a6, self._addr4, self._addr6
        conns = self._tcp
        absolute = self.absolute_seq
        eth_ip4, eth_ip6 = _ETH_IP4.unpack_from, _ETH_IP6.unpack_from
        tcp_hdr, udp_hdr, ii = _TCP.unpack_from, _UDP.unpack_from, _II.unpack_from
        flag_text = _TCP_FLAGS
        options = tcpopts.options
        icmp4, icmp6 = icmptext.icmp4, icmptext.icmp6
        dns_summary = dns.summary
        dns_ports = _DNS_PORTS
        # The start of the last second seen, in ns (first: far before any
        # packet), and its "HH:MM:SS.".
        clock_state = [-1 << 80, ""]

        def fast(batch: list[tuple[int, bytes, int]]) -> list[str]:
            sec_ns, hms = clock_state
            out = []
            add = out.append
            bad = 0
            for ts, d, olen in batch:
                if len(d) < 54:
                    add(line(ts, d, olen))
                    continue
                et = d[12] << 8 | d[13]
                # One 802.1Q tag (printed only with -e, which never gets here)
                # moves everything 4 bytes on.
                v = 0
                if et == 0x8100:
                    if len(d) < 58:
                        add(line(ts, d, olen))
                        continue
                    et = d[16] << 8 | d[17]
                    v = 4
                if et == 0x0800:
                    _, vihl, tlen, frag, proto, s, t = eth_ip4(d, v)
                    if vihl != 0x45 or frag & 0x1FFF or tlen < 20 or tlen > olen - 14 - v \
                            or (proto != 6 and proto != 17 and proto != 1):
                        add(line(ts, d, olen))
                        continue
                    src = a4.get(s) or addr4(s)
                    dst = a4.get(t) or addr4(t)
                    ipname = "IP "
                    o = 34 + v
                    plen = tlen - 20
                elif et == 0x86DD:
                    _, vtcfl, plen, proto, s, t = eth_ip6(d, v)
                    if vtcfl >> 28 != 6 or plen + 54 + v > olen \
                            or (proto != 6 and proto != 17 and proto != 58):
                        add(line(ts, d, olen))
                        continue
                    src = a6.get(s) or addr6(s)
                    dst = a6.get(t) or addr6(t)
                    ipname = "IP6 "
                    o = 54 + v
                else:
                    add(line(ts, d, olen))
                    continue
                # Every way off the happy path is taken before the first state
                # change (the -ttt clock, TCP sequence origins).
                if proto == 6:
                    if len(d) < o + 20:
                        add(line(ts, d, olen))
                        continue
                    sport, dport, seq, ack, offx, flags, win, _, urp = tcp_hdr(d, o)
                    hlen = (offx >> 4) << 2
                    if hlen < 20 or hlen > plen or len(d) < o + hlen:
                        add(line(ts, d, olen))
                        continue
                elif proto == 17:
                    sport, dport, ulen, _ = udp_hdr(d, o)
                    if ulen < 8 or ulen > plen:
                        add(line(ts, d, olen))
                        continue
                else:
                    try:
                        text = icmp4(d, o, plen) if proto == 1 else icmp6(d, o, plen)
                    except _TRUNC:
                        add(line(ts, d, olen))
                        continue
                if stamp is None:
                    # Within the same second only a small int is divided and
                    # printed; str() of 1000000 + us beats a :06d format.
                    ns = ts - sec_ns
                    if ns >= 1_000_000_000 or ns < 0:
                        sec = ts // 1_000_000_000
                        sec_ns = sec * 1_000_000_000
                        ns = ts - sec_ns
                        hms = strftime("%H:%M:%S", clock(sec)) + "."
                    pre = f"{hms}{str(1_000_000 + ns // 1000)[1:]} {ipname}"
                else:
                    pre = stamp(ts) + ipname
                if proto == 6:
                    size = plen - hlen
                    sack_base = 0
                    if flags & 0x10:
                        if not absolute:
                            # _relative(), inlined: the same state, the same updates.
                            rev = s > t or (s == t and sport > dport)
                            key = (t, dport, s, sport) if rev else (s, sport, t, dport)
                            state = conns.get(key)
                            if state is None or flags & 0x02:
                                if len(conns) >= _TCP_STATE_MAX:
                                    conns.clear()
                                conns[key] = [ack - 1, seq] if rev else [seq, ack - 1]
                            elif rev:
                                sack_base = state[0]
                                seq = (seq - state[1]) & 0xFFFFFFFF
                                ack = (ack - sack_base) & 0xFFFFFFFF
                            else:
                                sack_base = state[1]
                                seq = (seq - state[0]) & 0xFFFFFFFF
                                ack = (ack - sack_base) & 0xFFFFFFFF
                        acks = f", ack {ack}"
                    else:
                        acks = ""
                    if size > 0:
                        seqs = f", seq {seq}:{(seq + size) & 0xFFFFFFFF}"
                    elif flags & 0x07:
                        seqs = f", seq {seq}"
                    else:
                        seqs = ""
                    if hlen == 20:
                        opts = ""
                    elif hlen == 32 and d[o + 20:o + 24] == _NOP_NOP_TS:
                        val, ecr = ii(d, o + 24)
                        opts = f", options [nop,nop,TS val {val} ecr {ecr}]"
                    else:
                        opts, ok = options(d[o + 20:o + hlen], sack_base)
                        if not ok:
                            bad += 1
                    text = (f"{pre}{src}.{sport} > {dst}.{dport}: Flags [{flag_text[flags]}]"
                            f"{seqs}{acks}, win {win}{f', urg {urp}' if flags & 0x20 else ''}"
                            f"{opts}, length {size}")
                    if size > 2 and (sport == 53 or dport == 53):
                        summary, ok = dns_summary(d[o + hlen + 2:o + plen], size - 2)
                        if not ok:
                            bad += 1
                        text = f"{text}: {summary}"
                    add(text)
                elif proto == 17:
                    if sport in dns_ports or dport in dns_ports:
                        summary, ok = dns_summary(d[o + 8:o + ulen], ulen - 8)
                        if not ok:
                            bad += 1
                        add(f"{pre}{src}.{sport} > {dst}.{dport}: {summary}")
                    else:
                        add(f"{pre}{src}.{sport} > {dst}.{dport}: UDP, length {ulen - 8}")
                else:
                    if proto == 58 and text.endswith("[|icmp6]"):
                        bad += 1
                    add(f"{pre}{src} > {dst}: {text}")
            clock_state[0], clock_state[1] = sec_ns, hms
            self.malformed += bad
            return out

        return fast

    # -- timestamps and dumps ---------------------------------------------

    def _stamp(self, ts_ns: int) -> str:
        sec, ns = divmod(ts_ns, 1_000_000_000)
        style = self.ts_style
        if style == "abs":
            if sec != self._sec:
                self._sec = sec
                self._hms = time.strftime("%H:%M:%S", self._clock(sec))
            return f"{self._hms}.{ns // 1000:06d} "
        if style == "epoch":
            return f"{sec}.{ns // 1000:06d} "
        if style == "delta":
            prev = self._prev_ns if self._prev_ns is not None else ts_ns
            self._prev_ns = ts_ns
            delta = ts_ns - prev
            sign = "-" if delta < 0 else " "
            d_sec, d_ns = divmod(abs(delta), 1_000_000_000)
            h, rest = divmod(d_sec, 3600)
            return f"{sign}{h:02d}:{rest // 60:02d}:{rest % 60:02d}.{d_ns // 1000:06d} "
        return ""

    def _dump(self, data: bytes) -> str:
        """tcpdump's -x/-X/-A view of everything after the link header."""
        r = self._decap(data) if self._decap else None
        body = data[r[1]:] if r else data
        if self.hexdump == "A":
            return "\n" + "".join(chr(b) if 0x20 <= b < 0x7F or b == 0x0A else "."
                                  for b in body if b != 0x0D)
        rows = []
        for i in range(0, len(body), 16):
            chunk = body[i:i + 16]
            words = " ".join(chunk[j:j + 2].hex() for j in range(0, len(chunk), 2))
            row = f"\n\t0x{i:04x}:  {words}"
            if self.hexdump == "X":
                text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
                row = f"{row:<50}  {text}"
            rows.append(row)
        return "".join(rows)

    # -- link layer ---------------------------------------------------------

    def _frame(self, data: bytes, orig_len: int, f: dict | None) -> str:
        if self._plain_ether and f is None:
            etype = link.untagged_ethertype(data)
            if etype == 0x0800:
                return self._ip4(data, 14, orig_len - 14, None, 0)
            if etype == 0x86DD:
                return self._ip6(data, 14, orig_len - 14, None, 0)
        decap = self._decap
        if decap is None:
            return f"{self._link_name}, length {orig_len}"
        r = decap(data)
        if r is None:
            self._bad = True
            return f"[|{self._link_name.lower()}]"
        etype, off, info = r
        if f is not None:
            self._link_fields(f, etype, info)
        head = self._link_text(etype, info, orig_len) if self.link_header else ""
        length = orig_len - off
        if etype == 0x0800:
            return head + self._ip4(data, off, length, f, 0)
        if etype == 0x86DD:
            return head + self._ip6(data, off, length, f, 0)
        if etype == 0x0806 or etype == 0x8035:
            return head + self._arp(data, off, length, f)
        if head:
            return head.rstrip(": ,")
        return self._other_link(etype, info, orig_len)

    def _link_fields(self, f: dict, etype: int | None, info: link.LinkInfo) -> None:
        f["ethertype"] = etype
        if info.src:
            f["link_src"] = _mac(info.src)
        if info.dst:
            f["link_dst"] = _mac(info.dst)
        if info.vlans:
            f["vlans"] = [tci & 0xFFF for _, tci in info.vlans]
        if info.pkttype >= 0:
            f["pkttype"] = _SLL_TYPES.get(info.pkttype, str(info.pkttype))

    def _link_text(self, etype: int | None, info: link.LinkInfo, orig_len: int) -> str:
        """tcpdump -e's link header, ending where the payload text starts."""
        lt = self.linktype
        if lt == link.LINKTYPE_ETHERNET:
            first = info.vlans[0][0] if info.vlans else etype
            if info.length >= 0 and not info.vlans:
                head = f"{_mac(info.src)} > {_mac(info.dst)}, 802.3, length {orig_len}: "
            else:
                head = (f"{_mac(info.src)} > {_mac(info.dst)}, ethertype {_etype_name(first)}"
                        f" (0x{first:04x}), length {orig_len}: ")
            return head + self._vlan_text(info, etype)
        if info.pkttype >= 0:
            kind = _SLL_TYPES.get(info.pkttype, f"pkttype {info.pkttype}")
            where = f"ifindex {info.ifindex} " if info.ifindex >= 0 else ""
            addr = f" {_mac(info.src)}" if info.src else ""
            if etype is None:
                return f"{where}{kind}{addr} hatype {info.hatype}, length {orig_len}: "
            first = info.vlans[0][0] if info.vlans else etype
            return (f"{where}{kind}{addr} ethertype {_etype_name(first)} (0x{first:04x}),"
                    f" length {orig_len}: " + self._vlan_text(info, etype))
        if info.family >= 0:
            return f"AF {info.family}, length {orig_len}: "
        return ""

    @staticmethod
    def _vlan_text(info: link.LinkInfo, etype: int | None) -> str:
        parts = []
        tags = info.vlans
        for i, (_, tci) in enumerate(tags):
            inner = tags[i + 1][0] if i + 1 < len(tags) else etype
            dei = ", DEI" if tci & 0x1000 else ""
            parts.append(f"vlan {tci & 0xFFF}, p {tci >> 13}{dei}, ethertype "
                         f"{_etype_name(inner)} (0x{inner:04x}), ")
        return "".join(parts)

    def _other_link(self, etype: int | None, info: link.LinkInfo, orig_len: int) -> str:
        """A shorter but correct line for payloads this decoder does not know."""
        if etype == link.ETH_P_802_2 or etype == link.ETH_P_802_3:
            addrs = f"{_mac(info.src)} > {_mac(info.dst)}, " if info.dst else ""
            return f"{addrs}802.3, length {orig_len}"
        if info.dst:
            return (f"{_mac(info.src)} > {_mac(info.dst)}, ethertype {_etype_name(etype)}"
                    f" (0x{etype:04x}), length {orig_len}")
        if etype is not None:
            return f"ethertype {_etype_name(etype)} (0x{etype:04x}), length {orig_len}"
        if info.family >= 0:
            return f"AF {info.family}, length {orig_len}"
        if info.hatype >= 0:
            return f"hatype {info.hatype}, length {orig_len}"
        return f"unknown network protocol, length {orig_len}"

    # -- network layer ------------------------------------------------------

    def _addr4(self, raw: bytes) -> str:
        cache = self._a4
        text = cache.get(raw)
        if text is None:
            if len(cache) > 65536:
                cache.clear()
            text = cache[raw] = socket.inet_ntop(socket.AF_INET, raw)
        return text

    def _addr6(self, raw: bytes) -> str:
        cache = self._a6
        text = cache.get(raw)
        if text is None:
            if len(cache) > 65536:
                cache.clear()
            text = cache[raw] = socket.inet_ntop(socket.AF_INET6, raw)
        return text

    def _ip4(self, d: bytes, o: int, length: int, f: dict | None, depth: int) -> str:
        p4 = self._p4 if depth == 0 else "IP "
        if len(d) < o + 20:
            self._bad = True
            return p4 + "[|ip]"
        vihl, tos, tlen, ident, frag, ttl, proto, csum, s, t = _IP4.unpack_from(d, o)
        if vihl >> 4 != 4:
            self._bad = True
            return f"{p4}version error: {vihl >> 4} != 4"
        hl = (vihl & 15) << 2
        if hl < 20:
            self._bad = True
            return f"{p4}bad-hlen {hl}"
        if tlen < hl:
            self._bad = True
            return f"{p4}bad-len {tlen}"
        src = self._addr4(s)
        dst = self._addr4(t)
        if f is not None and depth == 0:
            f.update(version=4, src=src, dst=dst, ttl=ttl, ip_proto=proto, ip_id=ident)
        head = p4
        plen = tlen - hl  # as the header says, which is what tcpdump prints
        if tlen > length:
            self._bad = True
            head += f"truncated-ip - {tlen - length} bytes missing! "
        if self.verbose:
            head += self._ip4_verbose(d, o, hl, tos, tlen, ident, frag, ttl, proto, csum)
        end = o + min(tlen, length)
        o += hl
        if frag & 0x1FFF:
            if f is not None and depth == 0:
                f["fragment_offset"] = (frag & 0x1FFF) * 8
            return f"{head}{src} > {dst}: ip-proto-{proto}"
        more = bool(frag & 0x2000)
        if proto == 6:
            return head + self._tcp_seg(d, o, end, plen, src, dst, s, t, f, 4)
        if proto == 17:
            return head + self._udp(d, o, end, plen, src, dst, s, t, f, 4, more)
        if proto == 1:
            if f is not None:
                f["transport"] = "icmp"
            try:
                if f is not None and depth == 0:
                    f.update(icmp_type=d[o], icmp_code=d[o + 1])
                text = icmptext.icmp4(d, o, plen)
            except _TRUNC:
                self._bad = True
                return f"{head}{src} > {dst}: ICMP [|icmp]" if len(d) > o else \
                    f"{head}{src} > {dst}: [|icmp]"
            if self.verbose and not more and len(d) >= end >= o + 4 \
                    and ones_sum(d[o:end]) != 0xFFFF:
                self._bad = True
                text += f" (wrong icmp cksum {d[o + 2] << 8 | d[o + 3]:x})"
            return f"{head}{src} > {dst}: {text}"
        inner = self._encapsulated(d, o, end, proto, plen, f, depth)
        if inner is not None:
            return f"{head}{src} > {dst}: {inner}"
        return f"{head}{src} > {dst}:  ip-proto-{proto} {plen}"

    def _encapsulated(self, d: bytes, o: int, end: int, proto: int, plen: int, f: dict | None,
                      depth: int) -> str | None:
        """ESP, IPv4-in-IP and IPv6-in-IP after either IP header; None for others.

        IPv4 and IPv6 carry these the same way, so both headers end here.
        """
        if proto == 50 and len(d) >= o + 8:
            spi, seq = _II.unpack_from(d, o)
            return f"ESP(spi=0x{spi:08x},seq=0x{seq:x}), length {plen}"
        if proto == 4 and depth < _MAX_DEPTH:
            return self._ip4(d[:end], o, plen, f, depth + 1)
        if proto == 41 and depth < _MAX_DEPTH:
            return self._ip6(d[:end], o, plen, f, depth + 1)
        return None

    def _ip4_verbose(self, d: bytes, o: int, hl: int, tos: int, tlen: int, ident: int,
                     frag: int, ttl: int, proto: int, csum: int) -> str:
        flags = ", ".join(n for bit, n in ((0x2000, "+"), (0x4000, "DF"), (0x8000, "rsvd"))
                          if frag & bit) or "none"
        text = (f"(tos 0x{tos:x}{_TOS_ECN.get(tos & 3, '')}, ttl {ttl}, id {ident}, "
                f"offset {(frag & 0x1FFF) * 8}, flags [{flags}], "
                f"proto {_IP_PROTOS.get(proto, 'unknown')} ({proto}), length {tlen}")
        if hl > 20:
            text += ", options (" + self._ip4_options(d[o + 20:o + hl]) + ")"
        header = d[o:o + hl]
        if len(header) == hl and ones_sum(header) != 0xFFFF:
            self._bad = True
            good = inet_checksum(header[:10] + b"\0\0" + header[12:])
            text += f", bad cksum {csum:x} (->{good:x})!"
        return text + ")\n    "

    def _ip4_options(self, opts: bytes) -> str:
        names = []
        i = 0
        while i < len(opts):
            kind = opts[i]
            names.append(_IP_OPTS.get(kind, f"unknown {kind}"))
            if kind == 0:
                break
            if kind == 1:
                i += 1
                continue
            if i + 1 >= len(opts) or opts[i + 1] < 2:
                self._bad = True
                names[-1] += " [bad length]"
                break
            i += opts[i + 1]
        return ",".join(names)

    def _ip6(self, d: bytes, o: int, length: int, f: dict | None, depth: int) -> str:
        p6 = self._p6 if depth == 0 else "IP6 "
        if len(d) < o + 40:
            self._bad = True
            return p6 + "[|ip6]"
        vtcfl, plen, nxt, hlim, s, t = _IP6.unpack_from(d, o)
        if vtcfl >> 28 != 6:
            self._bad = True
            return f"{p6}version error: {vtcfl >> 28} != 6"
        src = self._addr6(s)
        dst = self._addr6(t)
        if f is not None and depth == 0:
            f.update(version=6, src=src, dst=dst, ttl=hlim, ip_proto=nxt)
        head = p6
        if plen == 0 and nxt == 0:
            plen = length - 40  # a jumbogram (RFC 2675), or BIG TCP's segments
        if plen + 40 > length:
            self._bad = True
            head += f"truncated-ip6 - {plen + 40 - length} bytes missing! "
        if self.verbose:
            tc = (vtcfl >> 20) & 0xFF
            fl = vtcfl & 0xFFFFF
            cls = f"class 0x{tc:x}, " if tc else ""
            flow = f"flowlabel 0x{fl:05x}, " if fl else ""
            name = _IP_PROTOS.get(nxt, "unknown")
            head += f"({cls}{flow}hlim {hlim}, next-header {name} ({nxt}) payload length: {plen}) "
        end = o + 40 + min(plen, length - 40)
        o += 40
        ext = []
        more = False
        try:
            while True:
                if nxt in _V6_EXT or nxt == 43:
                    hdr_len = (d[o + 1] + 1) * 8
                    if nxt == 43:
                        ext.append(f"RT6 (len={d[o + 1]}, type={d[o + 2]}, segleft={d[o + 3]})")
                    else:
                        ext.append(_V6_EXT[nxt])
                elif nxt == 44:
                    offlg, ident = _HH.unpack_from(d, o + 2)[0], _II.unpack_from(d, o)[1]
                    frag_len = end - o - 8
                    ext.append(f"frag (0x{ident:08x}:{offlg & 0xFFF8}|{frag_len})" if self.verbose
                               else f"frag ({offlg & 0xFFF8}|{frag_len})")
                    hdr_len = 8
                    more = bool(offlg & 1)
                    if offlg & 0xFFF8:
                        if f is not None and depth == 0:
                            f["fragment_offset"] = offlg & 0xFFF8
                        return f"{head}{src} > {dst}: " + " ".join(ext)
                elif nxt == 51:
                    hdr_len = (d[o + 1] + 2) * 4
                    spi, seq = _II.unpack_from(d, o + 4)
                    ext.append(f"AH(spi=0x{spi:08x},seq=0x{seq:x}):")
                else:
                    break
                nxt = d[o]
                o += hdr_len
                if o > end:
                    raise IndexError
        except _TRUNC:
            self._bad = True
            return f"{head}{src} > {dst}: " + " ".join(ext) + " [|ip6]"
        pre = " ".join(ext) + " " if ext else ""
        plen = end - o
        if f is not None and depth == 0:
            f["ip_proto"] = nxt
        if nxt == 6 or nxt == 17:
            # After extension headers tcpdump names the hosts once, before them.
            if ext:
                head, src, dst = f"{head}{src} > {dst}: {pre}", "", ""
            if nxt == 6:
                return head + self._tcp_seg(d, o, end, plen, src, dst, s, t, f, 6)
            return head + self._udp(d, o, end, plen, src, dst, s, t, f, 6, more)
        if nxt == 58:
            if f is not None:
                f["transport"] = "icmp6"
            try:
                if f is not None and depth == 0:
                    f.update(icmp_type=d[o], icmp_code=d[o + 1])
                text = icmptext.icmp6(d, o, plen)
            except _TRUNC:
                self._bad = True
                return f"{head}{src} > {dst}: {pre}ICMP6 [|icmp6]"
            if text.endswith("[|icmp6]"):
                self._bad = True
            if self.verbose and not more and len(d) >= end:
                text = self._cksum6(d, o, end, s, t, 58, "icmp6") + text
            return f"{head}{src} > {dst}: {pre}{text}"
        if nxt == 59:
            return f"{head}{src} > {dst}: {pre}no next header"
        inner = self._encapsulated(d, o, end, nxt, plen, f, depth)
        if inner is not None:
            return f"{head}{src} > {dst}: {pre}{inner}"
        return f"{head}{src} > {dst}: {pre}ip-proto-{nxt} {plen}"

    def _cksum6(self, d: bytes, o: int, end: int, s: bytes, t: bytes, proto: int,
                name: str) -> str:
        """tcpdump's `[icmp6 sum ok] ` / `[bad ... cksum]` note for an IPv6 payload."""
        seg = d[o:end]
        pseudo = s + t + struct.pack("!IxxxB", len(seg), proto)
        if ones_sum(pseudo + seg) == 0xFFFF:
            return f"[{name} sum ok] "
        self._bad = True
        at = 6 if proto == 17 else 16 if proto == 6 else 2
        if len(seg) < at + 2:
            return ""
        good = inet_checksum(pseudo + seg[:at] + b"\0\0" + seg[at + 2:])
        got = seg[at] << 8 | seg[at + 1]
        return f"[bad {name} cksum 0x{got:04x} -> 0x{good:04x}!] "

    # -- transport layer ----------------------------------------------------

    def _udp(self, d: bytes, o: int, end: int, plen: int, src: str, dst: str, s: bytes,
             t: bytes, f: dict | None, version: int, fragmented: bool) -> str:
        if f is not None:
            f["transport"] = "udp"
        if len(d) < o + 8:
            self._bad = True
            if len(d) >= o + 4:
                sport, dport = _HH.unpack_from(d, o)
                return f"{src}.{sport} > {dst}.{dport}: [|udp]"
            return f"{src} > {dst}: [|udp]"
        sport, dport, ulen, csum = _UDP.unpack_from(d, o)
        if f is not None:
            f.update(sport=sport, dport=dport)
        head = f"{src}.{sport} > {dst}.{dport}: " if src else f"{sport} > {dport}: "
        if ulen == 0 and plen > 65535:
            ulen = plen  # an IPv6 jumbogram
        if ulen < 8:
            self._bad = True
            return f"{head}truncated-udp {ulen}"
        note = ""
        if ulen > plen:
            self._bad = True
            if not (sport in _DNS_PORTS or dport in _DNS_PORTS):
                return f"{head}UDP, bad length {ulen} > {plen}"
            ulen = plen
        if self.verbose and not fragmented and len(d) >= o + ulen:
            if version == 6:
                note = self._cksum6(d, o, o + ulen, s, t, 17, "udp")
            elif self.verbose > 1:
                note = self._cksum4(d, o, o + ulen, s, t, csum)
        size = ulen - 8
        if sport in _DNS_PORTS or dport in _DNS_PORTS:
            text, ok = dns.summary(d[o + 8:o + ulen], size, f)
            if not ok:
                self._bad = True
            return head + note + text
        return f"{head}{note}UDP, length {size}"

    def _cksum4(self, d: bytes, o: int, end: int, s: bytes, t: bytes, csum: int) -> str:
        if csum == 0:
            return "[no cksum] "
        seg = d[o:end]
        pseudo = s + t + struct.pack("!xBH", 17, len(seg))
        if ones_sum(pseudo + seg) == 0xFFFF:
            return "[udp sum ok] "
        self._bad = True
        good = inet_checksum(pseudo + seg[:6] + b"\0\0" + seg[8:])
        return f"[bad udp cksum 0x{csum:04x} -> 0x{good:04x}!] "

    def _tcp_seg(self, d: bytes, o: int, end: int, plen: int, src: str, dst: str, s: bytes,
                 t: bytes, f: dict | None, version: int) -> str:
        if f is not None:
            f["transport"] = "tcp"
        if len(d) < o + 20:
            self._bad = True
            if len(d) >= o + 4:
                sport, dport = _HH.unpack_from(d, o)
                return f"{src}.{sport} > {dst}.{dport}: [|tcp]"
            return f"{src} > {dst}: [|tcp]"
        sport, dport, seq, ack, offx, flags, win, csum, urp = _TCP.unpack_from(d, o)
        hlen = (offx >> 4) << 2
        fl = _TCP_FLAGS[flags]
        if f is not None:
            f.update(sport=sport, dport=dport, tcp_flags=fl, seq=seq, ack=ack, win=win)
        head = (f"{src}.{sport} > {dst}.{dport}: Flags [{fl}]" if src
                else f"{sport} > {dport}: Flags [{fl}]")
        if hlen < 20:
            self._bad = True
            return f"{head}, [bad hdr length {hlen} - too short, < 20]"
        if hlen > plen:
            self._bad = True
            return f"{head}, [bad hdr length {hlen} - too long, > {plen}]"
        size = plen - hlen
        parts = [head]
        if self.verbose:
            parts.append(self._tcp_cksum(d, o, end, s, t, csum, version))
        sack_base = 0
        if flags & 0x10 and not self.absolute_seq:
            seq, ack, sack_base = self._relative(s, sport, t, dport, seq, ack, flags)
        if size > 0 or flags & 0x07:
            parts.append(f", seq {seq}:{(seq + size) & 0xFFFFFFFF}" if size > 0 else f", seq {seq}")
        if flags & 0x10:
            parts.append(f", ack {ack}")
        parts.append(f", win {win}")
        if flags & 0x20:
            parts.append(f", urg {urp}")
        if hlen > 20:
            if len(d) < o + hlen:
                self._bad = True
                text, _ = tcpopts.options(d[o + 20:o + hlen], sack_base)
                parts.append(text[:-1] + " [|tcp]")
                return "".join(parts)
            text, ok = tcpopts.options(d[o + 20:o + hlen], sack_base)
            if not ok:
                self._bad = True
            parts.append(text)
        parts.append(f", length {size}")
        if size > 2 and (sport == 53 or dport == 53):
            text, ok = dns.summary(d[o + hlen + 2:end], size - 2, f)
            if not ok:
                self._bad = True
            parts.append(": " + text)
        return "".join(parts)

    def _tcp_cksum(self, d: bytes, o: int, end: int, s: bytes, t: bytes, csum: int,
                   version: int) -> str:
        if len(d) < end:
            return f", cksum 0x{csum:04x}"
        seg = d[o:end]
        if version == 4:
            pseudo = s + t + struct.pack("!xBH", 6, len(seg))
        else:
            pseudo = s + t + struct.pack("!IxxxB", len(seg), 6)
        if ones_sum(pseudo + seg) == 0xFFFF:
            return f", cksum 0x{csum:04x} (correct)"
        self._bad = True
        good = inet_checksum(pseudo + seg[:16] + b"\0\0" + seg[18:])
        return f", cksum 0x{csum:04x} (incorrect -> 0x{good:04x})"

    def _relative(self, s: bytes, sport: int, t: bytes, dport: int, seq: int, ack: int,
                  flags: int) -> tuple[int, int, int]:
        """Sequence and ack numbers relative to the connection's first ones, as tcpdump.

        The first segment with ACK seen for a connection (or any SYN) sets the
        origins of both directions and prints absolute numbers.
        """
        rev = s > t or (s == t and sport > dport)
        key = (t, dport, s, sport) if rev else (s, sport, t, dport)
        state = self._tcp.get(key)
        if state is None or flags & 0x02:
            if len(self._tcp) >= _TCP_STATE_MAX:
                self._tcp.clear()
            self._tcp[key] = [ack - 1, seq] if rev else [seq, ack - 1]
            return seq, ack, 0
        mine, theirs = (state[1], state[0]) if rev else (state[0], state[1])
        return (seq - mine) & 0xFFFFFFFF, (ack - theirs) & 0xFFFFFFFF, theirs

    # -- ARP ----------------------------------------------------------------

    def _arp(self, d: bytes, o: int, length: int, f: dict | None) -> str:
        pre = self._parp
        if len(d) < o + 8:
            self._bad = True
            return pre + "[|arp]"
        hrd, pro, hln, pln, op = _ARP.unpack_from(d, o)
        if f is not None:
            f.update(arp_op=op)
        if hln != 6 or pln != 4 or pro != 0x0800:
            return f"{pre}hardware {hrd}, protocol 0x{pro:04x}, op {op}, length {length}"
        if len(d) < o + 28:
            self._bad = True
            return pre + "[|arp]"
        sha, tha = d[o + 8:o + 14], d[o + 18:o + 24]
        spa, tpa = self._addr4(d[o + 14:o + 18]), self._addr4(d[o + 24:o + 28])
        if f is not None:
            f.update(src=spa, dst=tpa)
        if op == 1:
            who = f" ({_mac(tha)})" if any(tha) else ""
            return f"{pre}Request who-has {tpa}{who} tell {spa}, length {length}"
        if op == 2:
            return f"{pre}Reply {spa} is-at {_mac(sha)}, length {length}"
        rarp = "" if self._parp == "" else "RARP, "
        if op == 3:
            return f"{rarp}Request who-is {_mac(tha)} tell {_mac(sha)}, length {length}"
        if op == 4:
            return f"{rarp}Reply {_mac(tha)} at {tpa}, length {length}"
        return f"{pre}Unknown ({op}), length {length}"
