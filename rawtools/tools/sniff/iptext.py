"""IPv4 and IPv6 in tcpdump's words: hosts, -v's header details, options, extension headers.

The IP layer checks what its header claims against what was captured
(`truncated-ip - 68 bytes missing!`, `bad-len`), prints fragments after the
first without ports, walks IPv6 extension headers, and hands the payload to
the transport layer, or to itself for IP in IP (a few levels deep at most).
"""

from __future__ import annotations

import socket
import struct

from rawtools.tools.sniff.printers import (
    ah,
    dccp,
    eigrp,
    gre,
    igmp,
    igrp,
    ip6ext,
    osi,
    ospf,
    pgm,
    pim,
    ppp,
    rsvp,
    sctp,
    vrrp,
)
from rawtools.tools.sniff.printers.ports import Printer
from rawtools.tools.sniff.transport import TransportText
from rawtools.tools.sniff.walk import TRUNCATED, Damage, Fields
from rawtools.wire.checksum import checksum_ok, inet_checksum
from rawtools.wire.ip import (
    IP4_HEADER_LEN,
    IP6_HEADER_LEN,
    PROTO_AH,
    PROTO_DSTOPTS,
    PROTO_ESP,
    PROTO_FRAGMENT,
    PROTO_GRE,
    PROTO_HOPOPTS,
    PROTO_ICMP,
    PROTO_ICMP6,
    PROTO_IGMP,
    PROTO_IPIP,
    PROTO_IPV6,
    PROTO_MOBILITY,
    PROTO_NONE,
    PROTO_OSPF,
    PROTO_PIM,
    PROTO_ROUTING,
    PROTO_SCTP,
    PROTO_TCP,
    PROTO_UDP,
    PROTO_VRRP,
)
from rawtools.wire.link import ETHERTYPE_IP, ETHERTYPE_IPV6, ETHERTYPE_TEB

IP4_HEADER = struct.Struct("!BBHHHBBH4s4s")
IP6_HEADER = struct.Struct("!IHBB16s16s")
_II = struct.Struct("!II")
_H = struct.Struct("!H")

# The IPv4 flags and fragment offset field.
IP_RF, IP_DF, IP_MF, IP_OFFMASK = 0x8000, 0x4000, 0x2000, 0x1FFF
# The IPv6 fragment header's offset (in bytes, as it stands) and more-fragments bit.
IP6F_OFF_MASK, IP6F_MORE_FRAG = 0xFFF8, 0x0001
# IPv4 options (dpkt's names).
IP_OPT_EOL, IP_OPT_NOP, IP_OPT_RR, IP_OPT_TS = 0, 1, 7, 68
IP_OPT_SEC, IP_OPT_LSRR, IP_OPT_SSRR, IP_OPT_RA = 130, 131, 137, 148

PROTO_EIGRP = 88  # not in rawtools.wire.ip: nothing but this printer needs it
PROTO_PGM = 113  # likewise
PROTO_DCCP = 33  # likewise
PROTO_RSVP = 46  # likewise
PROTO_IGRP = 9  # likewise
PROTO_MOBILITY_OLD = 62  # the Mobility Header's number in its drafts, which tcpdump still knows
PROTO_NAMES = {
    PROTO_HOPOPTS: "Options", PROTO_ICMP: "ICMP", PROTO_IGMP: "IGMP", PROTO_IPIP: "IPIP",
    PROTO_TCP: "TCP", PROTO_UDP: "UDP", PROTO_IPV6: "IPv6", PROTO_ROUTING: "Routing",
    PROTO_FRAGMENT: "Fragment", PROTO_GRE: "GRE", PROTO_ESP: "ESP", PROTO_AH: "AH",
    PROTO_ICMP6: "ICMPv6", PROTO_NONE: "none", PROTO_DSTOPTS: "DSTOPT", PROTO_OSPF: "OSPF",
    PROTO_PIM: "PIM", PROTO_VRRP: "VRRP", PROTO_SCTP: "SCTP",
    # The rest of tcpdump's table of names (its ipproto.c) as Debian builds it (no
    # pfsync), numbers as IANA assigns them.
    8: "EGP", PROTO_IGRP: "IGRP", PROTO_DCCP: "DCCP", PROTO_RSVP: "RSVP", 55: "Mobile IP",
    PROTO_MOBILITY_OLD: "Mobile IP (old)",
    PROTO_EIGRP: "EIGRP", 108: "Compressed IP", PROTO_PGM: "PGM", PROTO_MOBILITY: "Mobility",
}
_TOS_ECN = {1: ",ECT(1)", 2: ",ECT(0)", 3: ",CE"}
_IP_OPTS = {IP_OPT_EOL: "EOL", IP_OPT_NOP: "NOP", IP_OPT_RR: "RR", IP_OPT_TS: "TS",
            IP_OPT_SEC: "security", IP_OPT_LSRR: "LSRR", IP_OPT_SSRR: "SSRR", IP_OPT_RA: "RA"}
_FRAG_FLAGS = ((IP_MF, "+"), (IP_DF, "DF"), (IP_RF, "rsvd"))
_MAX_DEPTH = 3  # IP-in-IP nesting decoded before falling back
ETHERTYPE_PPP = 0x880B  # what GRE carries for PPTP
ETHERTYPE_GRE_ISO = 0x00FE  # OSI network-layer PDUs in GRE, an NLPID first (RFC 1701)
# Printers of what IP carries besides the transports, tunnels and ESP, by protocol.
IP_PRINTERS: dict[int, Printer] = {PROTO_IGMP: igmp.igmp, PROTO_EIGRP: eigrp.eigrp,
                                   PROTO_OSPF: ospf.ospf, PROTO_PIM: pim.pim,
                                   PROTO_RSVP: rsvp.rsvp, PROTO_IGRP: igrp.igrp}
IP6_PRINTERS: dict[int, Printer] = {**IP_PRINTERS, PROTO_OSPF: ospf.ospf6}
_CACHE_MAX = 65536


class Addresses:
    """Address text by the raw address: traffic repeats the same few hosts.

    `v4` and `v6` are the caches themselves, for a loop that looks up first
    and calls `text4`/`text6` only on a miss.
    """

    def __init__(self) -> None:
        self.v4: dict[bytes, str] = {}
        self.v6: dict[bytes, str] = {}

    def text4(self, raw: bytes) -> str:
        cache = self.v4
        text = cache.get(raw)
        if text is None:
            if len(cache) > _CACHE_MAX:
                cache.clear()
            text = cache[raw] = socket.inet_ntop(socket.AF_INET, raw)
        return text

    def text6(self, raw: bytes) -> str:
        cache = self.v6
        text = cache.get(raw)
        if text is None:
            if len(cache) > _CACHE_MAX:
                cache.clear()
            text = cache[raw] = socket.inet_ntop(socket.AF_INET6, raw)
        return text


def _ip4_error(vihl: int, tlen: int) -> str | None:
    """What is wrong with an IPv4 header's header length or total length."""
    hl = (vihl & 15) << 2
    if hl < IP4_HEADER_LEN:
        return f"bad-hlen {hl}"
    if tlen < hl:
        return f"bad-len {tlen}"
    return None


class _LineEnds(Exception):
    """An IPv6 extension header ends the line with `text`: it was cut or is invalid."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class IpText:
    """The IP layer's text and fields for one capture's settings.

    `named`: the link header already printed names the protocol (tcpdump -e),
    so the outermost IP header is not announced again with "IP "/"IP6 ".
    """

    def __init__(self, transport: TransportText, addresses: Addresses, damage: Damage,
                 verbose: int, named: bool) -> None:
        self._transport = transport
        self._addresses = addresses
        self._damage = damage
        self._verbose = verbose
        self._p4 = "" if named else "IP "
        self._p6 = "" if named else "IP6 "

    # -- IPv4 -------------------------------------------------------------

    def ip4(self, d: bytes, o: int, length: int, f: Fields | None, depth: int) -> str:
        """The IPv4 datagram at `o`, `length` bytes on the wire from there."""
        p4 = self._p4 if depth == 0 else "IP "
        if len(d) <= o:
            self._damage.bad = True
            return " [|ip]"  # not even the version: tcpdump does not name IP
        version = d[o] >> 4
        if version != 4:
            self._damage.bad = True  # tcpdump names the version in place of "IP "
            if version == 6:
                return "IP6, wrong link-layer encapsulation (invalid)"
            return f"IP{version} (invalid)"
        if len(d) < o + IP4_HEADER_LEN:
            self._damage.bad = True
            return p4 + " [|ip]"  # tcpdump's own double space after "IP"
        if length < IP4_HEADER_LEN:
            self._damage.bad = True  # the layer below leaves no room for the header
            return f"{p4}truncated-ip {length}"
        vihl, tos, tlen, ident, frag, ttl, proto, csum, s, t = IP4_HEADER.unpack_from(d, o)
        error = _ip4_error(vihl, tlen)
        if error is not None:
            self._damage.bad = True
            return p4 + error
        hl = (vihl & 15) << 2
        src = self._addresses.text4(s)
        dst = self._addresses.text4(t)
        if f is not None and depth == 0:
            f.update(version=4, src=src, dst=dst, ttl=ttl, ip_proto=proto, ip_id=ident)
        head = p4
        if tlen > length:
            self._damage.bad = True
            head += f"truncated-ip - {tlen - length} bytes missing! "
        if self._verbose:
            head += self._ip4_verbose(d[o:o + hl], hl, tos, tlen, ident, frag, ttl, proto, csum)
        end = o + min(tlen, length)
        if frag & IP_OFFMASK:
            if f is not None and depth == 0:
                f["fragment_offset"] = (frag & IP_OFFMASK) * 8
            return f"{head}{src} > {dst}: ip-proto-{proto}"
        if proto == PROTO_VRRP:
            return f"{head}{src} > {dst}: {self._vrrp(d[o + hl:end], tlen - hl, ttl, s, t)}"
        return self._ip4_payload(d, o + hl, end, proto, tlen - hl, head, src, dst, s, t, f,
                                 depth, bool(frag & IP_MF))

    def _ip4_payload(self, d: bytes, o: int, end: int, proto: int, plen: int, head: str,
                     src: str, dst: str, s: bytes, t: bytes, f: Fields | None, depth: int,
                     more: bool) -> str:
        """The line from the hosts on; `plen` is the payload length as the header says,
        which is what tcpdump prints."""
        if proto == PROTO_TCP:
            return head + self._transport.tcp(d, o, end, plen, src, dst, s, t, f)
        if proto == PROTO_UDP:
            # tcpdump reads no further than the IP header's total length.
            return head + self._transport.udp(d if end >= len(d) else d[:end], o, plen, src, dst,
                                              s, t, f, more)
        if proto == PROTO_ICMP:
            text = self._transport.icmp4(d, o, end, plen, f, depth, more)
            return f"{head}{src} > {dst}: {text}"
        if proto == PROTO_SCTP:
            return head + self._sctp(d, o, end, plen, src, dst)
        if proto == PROTO_DCCP:
            return head + self._dccp(d, o, end, plen, src, dst)
        if proto == PROTO_PGM:
            return f"{head}{src} > {dst}: {self._pgm(d, o, end, src, dst)}"
        inner = self._encapsulated(d, o, end, proto, plen, f, depth, IP_PRINTERS)
        if inner is not None:
            return f"{head}{src} > {dst}: {inner}"
        return f"{head}{src} > {dst}:  ip-proto-{proto} {plen}"

    def _ip4_verbose(self, header: bytes, hl: int, tos: int, tlen: int, ident: int, frag: int,
                     ttl: int, proto: int, csum: int) -> str:
        """-v's "(tos ..., length N)" with options, and the header checksum if it is wrong."""
        flags = ", ".join(n for bit, n in _FRAG_FLAGS if frag & bit) or "none"
        text = (f"(tos 0x{tos:x}{_TOS_ECN.get(tos & 3, '')}, ttl {ttl}, id {ident}, "
                f"offset {(frag & IP_OFFMASK) * 8}, flags [{flags}], "
                f"proto {PROTO_NAMES.get(proto, 'unknown')} ({proto}), length {tlen}")
        if hl > IP4_HEADER_LEN:
            text += ", options (" + self._ip4_options(header[IP4_HEADER_LEN:hl]) + ")"
        if len(header) == hl and not checksum_ok(header):
            self._damage.bad = True
            good = inet_checksum(header[:10] + b"\0\0" + header[12:])
            text += f", bad cksum {csum:x} (->{good:x})!"
        return text + ")\n    "

    def _ip4_options(self, opts: bytes) -> str:
        names = []
        i = 0
        while i < len(opts):
            kind = opts[i]
            names.append(_IP_OPTS.get(kind, f"unknown {kind}"))
            if kind == IP_OPT_EOL:
                break
            if kind == IP_OPT_NOP:
                i += 1
                continue
            if i + 1 >= len(opts) or opts[i + 1] < 2:
                self._damage.bad = True
                names[-1] += " [bad length]"
                break
            i += opts[i + 1]
        return ",".join(names)

    # -- IPv6 -------------------------------------------------------------

    def ip6(self, d: bytes, o: int, length: int, f: Fields | None, depth: int) -> str:
        """The IPv6 datagram at `o`, `length` bytes on the wire from there."""
        p6 = self._p6 if depth == 0 else "IP6 "
        if len(d) < o + IP6_HEADER_LEN:
            self._damage.bad = True
            return " [|ip6]"  # tcpdump names IPv6 only once its header is whole
        vtcfl, plen, nxt, hlim, s, t = IP6_HEADER.unpack_from(d, o)
        if vtcfl >> 28 != 6:
            self._damage.bad = True
            return f"{p6}version error: {vtcfl >> 28} != 6"
        src = self._addresses.text6(s)
        dst = self._addresses.text6(t)
        if f is not None and depth == 0:
            f.update(version=6, src=src, dst=dst, ttl=hlim, ip_proto=nxt)
        head = p6
        if plen == 0 and nxt == PROTO_HOPOPTS:
            plen = length - IP6_HEADER_LEN  # a jumbogram (RFC 2675), or BIG TCP's segments
        if plen + IP6_HEADER_LEN > length:
            self._damage.bad = True
            head += f"truncated-ip6 - {plen + IP6_HEADER_LEN - length} bytes missing! "
        if self._verbose:
            head += _ip6_verbose(vtcfl, hlim, nxt, plen)
        end = o + IP6_HEADER_LEN + min(plen, length - IP6_HEADER_LEN)
        ext: list[str] = []
        try:
            nxt, o, frag_offset, more = self._extensions(d, o + IP6_HEADER_LEN, end, nxt, ext)
        except TRUNCATED:
            self._damage.bad = True
            return f"{head}{src} > {dst}: " + " ".join(ext) + " [|ip6]"
        except _LineEnds as stop:
            self._damage.bad = True
            return f"{head}{src} > {dst}: " + " ".join([*ext, stop.text])
        if frag_offset:
            if f is not None and depth == 0:
                f["fragment_offset"] = frag_offset
            return f"{head}{src} > {dst}: " + " ".join(ext)
        if f is not None and depth == 0:
            f["ip_proto"] = nxt
        if nxt == PROTO_VRRP and not ext:
            return f"{head}{src} > {dst}: {self._vrrp(d[o:end], plen, hlim, s, t)}"
        return self._ip6_payload(d, o, end, nxt, head, ext, src, dst, s, t, f, depth, more)

    def _vrrp(self, p: bytes, length: int, ttl: int, s: bytes, t: bytes) -> str:
        """VRRP's text: its line holds the IP TTL (or hop limit) too, and its -v checksum
        the addresses, which no other printer of IP_PRINTERS needs."""
        text, ok = vrrp.vrrp(p, length, ttl, self._verbose, s, t)
        if not ok:
            self._damage.bad = True
        return text

    def _extensions(self, d: bytes, o: int, end: int, nxt: int,
                    ext: list[str]) -> tuple[int, int, int, bool]:
        """Walk the extension headers from `o`, their text appended to `ext`.

        Returns (next header, its offset, fragment offset, more fragments);
        stops at a fragment after the first, whose payload is no header.
        Raises one of TRUNCATED when the chain runs past the packet.
        """
        more = False
        while True:
            if nxt in (PROTO_HOPOPTS, PROTO_DSTOPTS, PROTO_ROUTING):
                hdr_len = self._options_or_route(d[o:end], nxt, ext)
            elif nxt == PROTO_FRAGMENT:
                if min(end, len(d)) - o < 4:
                    raise _LineEnds(" [|frag6]")
                offlg = _H.unpack_from(d, o + 2)[0]
                ident = _II.unpack_from(d, o)[1]
                frag_len = end - o - 8
                ext.append(f"frag (0x{ident:08x}:{offlg & IP6F_OFF_MASK}|{frag_len})"
                           if self._verbose else f"frag ({offlg & IP6F_OFF_MASK}|{frag_len})")
                hdr_len = 8
                more = bool(offlg & IP6F_MORE_FRAG)
                if offlg & IP6F_OFF_MASK:
                    return nxt, o, offlg & IP6F_OFF_MASK, more
            elif nxt == PROTO_AH:
                text, hdr_len = ah.ah(d[o:end], self._verbose)
                if hdr_len == 0:
                    raise _LineEnds(text)
                ext.append(text)
            else:
                return nxt, o, 0, more
            nxt = d[o]
            o += hdr_len
            if o > end:
                raise IndexError

    def _options_or_route(self, p: bytes, nxt: int, ext: list[str]) -> int:
        """A hop-by-hop, destination options or routing header's text appended to `ext`,
        and its length; raises _LineEnds when tcpdump's line ends in it."""
        if nxt == PROTO_HOPOPTS:
            text, size = ip6ext.hop_by_hop(p)
        elif nxt == PROTO_DSTOPTS:
            text, size = ip6ext.destination(p, self._verbose)
        else:
            text, size = ip6ext.routing(p, self._verbose)
        if size == 0:
            raise _LineEnds(text)
        ext.append(text)
        return size

    def _ip6_payload(self, d: bytes, o: int, end: int, nxt: int, head: str, ext: list[str],
                     src: str, dst: str, s: bytes, t: bytes, f: Fields | None, depth: int,
                     more: bool) -> str:
        """The line from the hosts on: extension headers, then the payload."""
        pre = " ".join(ext) + " " if ext else ""
        plen = end - o
        if nxt in (PROTO_TCP, PROTO_UDP):
            # After extension headers tcpdump names the hosts once, before them.
            if ext:
                head, src, dst = f"{head}{src} > {dst}: {pre}", "", ""
            if nxt == PROTO_TCP:
                return head + self._transport.tcp(d, o, end, plen, src, dst, s, t, f)
            # tcpdump reads no further than the payload length says (BIG TCP's 0 included).
            return head + self._transport.udp(d if end >= len(d) else d[:end], o, plen, src, dst,
                                              s, t, f, more)
        if nxt == PROTO_ICMP6:
            text = self._transport.icmp6(d, o, end, plen, s, t, f, depth, more)
            return f"{head}{src} > {dst}: {pre}{text}"
        if nxt == PROTO_NONE:
            return f"{head}{src} > {dst}: {pre}no next header"
        if nxt in (PROTO_MOBILITY, PROTO_MOBILITY_OLD):
            text, ok = ip6ext.mobility(d[o:end])
            if not ok:
                self._damage.bad = True
            return f"{head}{src} > {dst}: {pre}{text}"
        if nxt == PROTO_SCTP and not ext:
            return head + self._sctp(d, o, end, plen, src, dst)
        if nxt == PROTO_DCCP and not ext:
            return head + self._dccp(d, o, end, plen, src, dst)
        if nxt == PROTO_PGM and not ext:
            return f"{head}{src} > {dst}: {self._pgm(d, o, end, src, dst)}"
        inner = self._encapsulated(d, o, end, nxt, plen, f, depth, IP6_PRINTERS)
        if inner is not None:
            return f"{head}{src} > {dst}: {pre}{inner}"
        return f"{head}{src} > {dst}: {pre}ip-proto-{nxt} {plen}"

    # -- in either ----------------------------------------------------------

    def _encapsulated(self, d: bytes, o: int, end: int, proto: int, plen: int,
                      f: Fields | None, depth: int, printers: dict[int, Printer]) -> str | None:
        """ESP, IPv4-in-IP and IPv6-in-IP, GRE and the protocols of `printers`
        (IP_PRINTERS or IP6_PRINTERS) after either IP header; None for others.

        IPv4 and IPv6 carry these the same way, so both headers end here.
        """
        printer = printers.get(proto)
        if printer is not None:
            text, ok = printer(d[o:end], plen)
            if not ok:
                self._damage.bad = True
            return text
        if proto == PROTO_AH and printers is IP_PRINTERS:
            text, size = ah.ah(d[o:end], self._verbose)
            if size == 0:  # a whole header is left to the fallback, as before
                self._damage.bad = True
                return text
        if proto == PROTO_ESP and len(d) >= o + 8:
            spi, seq = _II.unpack_from(d, o)
            return f"ESP(spi=0x{spi:08x},seq=0x{seq:x}), length {plen}"
        if proto == PROTO_IPIP and depth < _MAX_DEPTH:
            return self.ip4(d[:end], o, plen, f, depth + 1)
        if proto == PROTO_IPV6 and depth < _MAX_DEPTH:
            return self.ip6(d[:end], o, plen, f, depth + 1)
        if proto == PROTO_GRE:
            return self._gre(d[:end], o, plen, f, depth)
        return None

    def _sctp(self, d: bytes, o: int, end: int, plen: int, src: str, dst: str) -> str:
        """SCTP's line names the hosts with their ports, as TCP's and UDP's do."""
        text, ok = sctp.sctp(d[o:end], plen, src, dst)
        if not ok:
            self._damage.bad = True
        return text

    def _dccp(self, d: bytes, o: int, end: int, plen: int, src: str, dst: str) -> str:
        """DCCP's line names the hosts with their ports, as TCP's and UDP's do."""
        text, ok = dccp.dccp(d[o:end], plen, src, dst)
        if not ok:
            self._damage.bad = True
        return text

    def _pgm(self, d: bytes, o: int, end: int, src: str, dst: str) -> str:
        text, ok = pgm.pgm(d[o:end], src, dst)
        if not ok:
            self._damage.bad = True
        return text

    def _gre(self, d: bytes, o: int, plen: int, f: Fields | None, depth: int) -> str:
        """GRE's header, then its payload: IPv4, IPv6 or an Ethernet frame, as tcpdump's."""
        text, etype, off, ok = gre.header(d[o:], plen)
        if not ok:
            self._damage.bad = True
        if etype < 0:
            return text
        inner, length = o + off, plen - off
        if depth >= _MAX_DEPTH:
            return f"{text}gre-proto-0x{etype:x}"
        if etype == ETHERTYPE_IP:
            return text + self.ip4(d, inner, length, f, depth + 1)
        if etype == ETHERTYPE_IPV6:
            return text + self.ip6(d, inner, length, f, depth + 1)
        ether = self._transport.ether
        if etype == ETHERTYPE_TEB and ether is not None:
            return text + ether(d[inner:], length)
        if etype == ETHERTYPE_PPP:
            return text + self.ppp(d, inner, length, depth + 1)
        if etype == ETHERTYPE_GRE_ISO:
            if len(d) <= inner:  # tcpdump's OSI printer names itself in its mark here
                self._damage.bad = True
                return text + " [|isoclns]"
            osi_text, ok = osi.osi(d[inner:], length)
            if not ok:
                self._damage.bad = True
            return text + osi_text
        return f"{text}gre-proto-0x{etype:x}"

    def ppp(self, d: bytes, o: int, length: int, depth: int) -> str:
        """A PPP frame at `o` (in PPTP's GRE, in a PPPoE session): IP, or `printers.ppp`'s text.

        IP inside is a packet inside another (depth >= 1): it names itself,
        and the JSON fields stay the outer layer's.
        """
        found = ppp.header(d[o:], length)
        if found is None:
            self._damage.bad = True
            return ppp.TRUNCATED
        proto, at = found
        o, length = o + at, length - at
        if proto in ppp.IP and depth <= _MAX_DEPTH:
            return self.ip4(d, o, length, None, max(depth, 1))
        if proto in ppp.IP6 and depth <= _MAX_DEPTH:
            return self.ip6(d, o, length, None, max(depth, 1))
        text = ppp.payload(proto, d[o:], length)
        if text is None:
            return f"{ppp.NAMES.get(proto, 'PPP')}, length {length}"
        if not text[1]:
            self._damage.bad = True
        return text[0]


def _ip6_verbose(vtcfl: int, hlim: int, nxt: int, plen: int) -> str:
    tc = (vtcfl >> 20) & 0xFF
    fl = vtcfl & 0xFFFFF
    cls = f"class 0x{tc:x}, " if tc else ""
    flow = f"flowlabel 0x{fl:05x}, " if fl else ""
    name = PROTO_NAMES.get(nxt, "unknown")
    return f"({cls}{flow}hlim {hlim}, next-header {name} ({nxt}) payload length: {plen}) "
