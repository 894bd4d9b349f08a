"""What IP carries, in tcpdump's words: UDP, TCP, ICMP and ICMPv6, with -v's checksum notes.

Each function returns the text after the IP layer's own (`198.18.0.2.40000 >
198.18.1.2.53: ...` for UDP and TCP, whose lines name the hosts with their
ports; the message text for ICMP, which the IP layer prefixes with the hosts).
Checksums are verified only with -v, over the pseudo-header of
`rawtools.wire.checksum`, and only on whole, unfragmented segments.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from rawtools.tools.sniff import dns, icmptext, tcpopts
from rawtools.tools.sniff.printers import geneve, l2tp, ports, ppp, vxlan
from rawtools.tools.sniff.walk import TRUNCATED, Damage, Fields
from rawtools.wire.checksum import checksum_ok, inet_checksum, pseudo_header_raw
from rawtools.wire.ip import PROTO_ICMP6, PROTO_TCP, PROTO_UDP

if TYPE_CHECKING:
    from rawtools.tools.sniff.tcpseq import TcpSequences

UDP_HEADER = struct.Struct("!HHHH")
TCP_HEADER = struct.Struct("!HHIIBBHHH")
_PORTS = struct.Struct("!HH")

# TCP flag bits (dpkt's names).
TH_FIN, TH_SYN, TH_RST, TH_PUSH, TH_ACK, TH_URG, TH_ECE, TH_CWR = (
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)
# tcpdump's flag letters in its order; the index is the TCP flags byte.
_FLAG_LETTERS = ((TH_FIN, "F"), (TH_SYN, "S"), (TH_RST, "R"), (TH_PUSH, "P"), (TH_ACK, "."),
                 (TH_URG, "U"), (TH_ECE, "E"), (TH_CWR, "W"))
TCP_FLAGS = tuple("".join(c for bit, c in _FLAG_LETTERS if b & bit) or "none"
                  for b in range(256))
# Segments carrying these print their sequence number even when empty.
SEQ_FLAGS = TH_FIN | TH_SYN | TH_RST

DNS_PORT = 53
MDNS_PORT = 5353
# UDP ports whose payload is summarised as DNS (TCP: only DNS_PORT).
DNS_PORTS = frozenset({DNS_PORT, MDNS_PORT})
# An IPv6 jumbogram's UDP length is 0 and its payload above this (RFC 2675).
_MAX_UDP = 65535

# The only text of an L2TP data message's frame after which tcpdump leaves its brace open.
_OPEN_BRACE = (ppp.TRUNCATED, " [|ip]")
# Tunnels within tunnels decoded before the rest is left undecoded.
_MAX_TUNNELS = 3

# Where the checksum field sits in each transport header.
_CKSUM_AT = {PROTO_UDP: 6, PROTO_TCP: 16, PROTO_ICMP6: 2}


def _correct_checksum(pseudo: bytes, seg: bytes, at: int) -> int:
    """The checksum `seg` should carry in its field at `at`, over `pseudo` and itself."""
    return inet_checksum(pseudo + seg[:at] + b"\0\0" + seg[at + 2:])


class TransportText:
    """The transport layer's text and fields for one capture's settings.

    `seqs` is the capture's TCP sequence tracker, None to print absolute
    numbers. Damage found is marked on `damage`.
    """

    def __init__(self, damage: Damage, verbose: int, seqs: TcpSequences | None) -> None:
        self._damage = damage
        self._verbose = verbose
        self._seqs = seqs
        # The text of an Ethernet frame carried in a tunnel (VXLAN): the decoder's
        # link layer, set once it exists (it is built on top of this one).
        self.ether: Callable[[bytes, int], str] | None = None
        # A payload by its EtherType, as a frame would carry it (Geneve's; LinkText.payload).
        self.payload: Callable[[int, bytes, int], str | None] | None = None
        # The PPP frame of an L2TP data message (IpText.ppp, bound to its frame), likewise.
        self.ppp: Callable[[bytes, int, int], str] | None = None
        self._tunnels = 0

    # -- UDP --------------------------------------------------------------

    def udp(self, d: bytes, o: int, plen: int, src: str, dst: str, s: bytes, t: bytes,
            f: Fields | None, fragmented: bool) -> str:
        """The UDP datagram at `o`, `plen` bytes long by the IP header.

        `src`/`dst` are "" after IPv6 extension headers, where the IP layer
        has named the hosts already.
        """
        if f is not None:
            f["transport"] = "udp"
        # `d` ends where the IP length does, so a datagram shorter than its ports (BIG
        # TCP's and GSO's IPv6 packets, captured by their sender, say 0) is _cut's; one
        # with its ports but shorter than its header tcpdump says by how much.
        if 4 <= plen < 8 and src and len(d) >= o + 4:
            self._damage.bad = True
            sport, dport = _PORTS.unpack_from(d, o)
            return f"{src}.{sport} > {dst}.{dport}: truncated-udp {plen}"
        if len(d) < o + 8:
            return self._cut(d, o, src, dst, "[|udp]")
        sport, dport, ulen, csum = UDP_HEADER.unpack_from(d, o)
        if f is not None:
            f.update(sport=sport, dport=dport)
        head = f"{src}.{sport} > {dst}.{dport}: " if src else f"{sport} > {dport}: "
        if ulen == 0 and plen > _MAX_UDP:
            ulen = plen  # an IPv6 jumbogram
        if ulen < 8:
            self._damage.bad = True
            return f"{head}truncated-udp {ulen}"
        is_dns = sport in DNS_PORTS or dport in DNS_PORTS
        app = None if is_dns else ports.printer(ports.UDP, sport, dport)
        if ulen > plen:
            # tcpdump hands the printers what the IP header leaves of the datagram;
            # only a datagram no printer takes is called bad.
            self._damage.bad = True
            if not is_dns and app is None:
                return f"{head}UDP, bad length {ulen - 8} > {plen - 8}"
            ulen = plen
        note = ""
        if self._verbose and not fragmented and len(d) >= o + ulen:
            note = self._udp_checksum(d[o:o + ulen], s, t, csum)
        size = ulen - 8
        if is_dns:
            # Port 53 wins over 5353, as in tcpdump's order of ports.
            mdns = sport != DNS_PORT and dport != DNS_PORT
            return head + note + self._dns(d[o + 8:o + ulen], size, f, mdns)
        if app is not None:
            return head + note + self._udp_app(app, d, o + 8, o + ulen, size)
        return f"{head}{note}UDP, length {size}"

    def _udp_app(self, app: ports.Printer, d: bytes, o: int, end: int, size: int) -> str:
        """A UDP payload's printer, then the frame a tunnel carries on a line of its own."""
        # Geneve's header says where its payload starts: read once, for both.
        found = geneve.header(d[o:end], size) if app is geneve.geneve else None
        text, ok = (found.text, found.ok) if found is not None else app(d[o:end], size)
        if not ok:
            self._damage.bad = True
        elif app is l2tp.l2tp and text.endswith(" {"):
            # A data message: tcpdump prints its PPP frame (an IP packet, say) in the braces.
            at = l2tp.data_at(d[o:end], size)
            inner = self.ppp(d, o + at, size - at) if at is not None and self.ppp else ""
            # Where the capture ends inside the PPP header or before an IPv4 header's first
            # byte, tcpdump stops at its mark, the brace left open; a frame too short by its
            # own length, or cut further on (an IPv6 header too), is marked and closed.
            cut = inner in _OPEN_BRACE and len(d) < end and at is not None and size - at >= 2
            text += inner if cut else inner + "}"
        elif found is not None and self.payload is not None and self._tunnels < _MAX_TUNNELS:
            if self._verbose:
                text = text[:-2] + "\n\t"  # -v puts the payload on a line of its own
            self._tunnels += 1
            try:
                carried = self.payload(found.ethertype, d[o + found.at:end], size - found.at)
                text += carried if carried is not None else f"geneve-proto-0x{found.ethertype:x}"
            finally:
                self._tunnels -= 1
        elif app in ports.TUNNELS and self.ether is not None and self._tunnels < _MAX_TUNNELS:
            # Nested tunnels are decoded a few deep, never as deep as the packet goes.
            self._tunnels += 1
            try:
                text += "\n" + self.ether(d[o + vxlan.HEADER_LEN:end], size - vxlan.HEADER_LEN)
            finally:
                self._tunnels -= 1
        return text

    def _dns(self, msg: bytes, length: int, f: Fields | None, mdns: bool = False) -> str:
        text, ok = dns.summary(msg, length, f, mdns=mdns, verbose=self._verbose > 0)
        if not ok:
            self._damage.bad = True
        return text

    def _udp_checksum(self, seg: bytes, s: bytes, t: bytes, csum: int) -> str:
        """-v's note: IPv6 checksums always, IPv4 ones only from -vv on (as tcpdump)."""
        if len(s) == 16:
            return self._checksum6(seg, s, t, PROTO_UDP, "udp")
        if self._verbose < 2:
            return ""
        if csum == 0:
            return "[no cksum] "
        pseudo = pseudo_header_raw(s, t, PROTO_UDP, len(seg))
        if checksum_ok(pseudo + seg):
            return "[udp sum ok] "
        self._damage.bad = True
        good = _correct_checksum(pseudo, seg, _CKSUM_AT[PROTO_UDP])
        return f"[bad udp cksum 0x{csum:04x} -> 0x{good:04x}!] "

    def _checksum6(self, seg: bytes, s: bytes, t: bytes, proto: int, name: str) -> str:
        """tcpdump's `[icmp6 sum ok] ` / `[bad ... cksum]` note for an IPv6 payload."""
        pseudo = pseudo_header_raw(s, t, proto, len(seg))
        if checksum_ok(pseudo + seg):
            return f"[{name} sum ok] "
        self._damage.bad = True
        at = _CKSUM_AT[proto]
        if len(seg) < at + 2:
            return ""
        good = _correct_checksum(pseudo, seg, at)
        got = seg[at] << 8 | seg[at + 1]
        return f"[bad {name} cksum 0x{got:04x} -> 0x{good:04x}!] "

    def _cut(self, d: bytes, o: int, src: str, dst: str, mark: str) -> str:
        """A UDP or TCP header cut short: the ports if they are there, and the mark.

        tcpdump's mark comes after ":  " (its own leading space), but for TCP
        cut before its ports, whose mark follows ": ".
        """
        self._damage.bad = True
        if len(d) >= o + 4:
            sport, dport = _PORTS.unpack_from(d, o)
            return f"{src}.{sport} > {dst}.{dport}:  {mark}"
        return f"{src} > {dst}{':  ' if mark == '[|udp]' else ': '}{mark}"

    # -- TCP --------------------------------------------------------------

    def tcp(self, d: bytes, o: int, end: int, plen: int, src: str, dst: str, s: bytes,
            t: bytes, f: Fields | None) -> str:
        """The TCP segment at `o` (up to `end` in `d`); `src`/`dst` as for `udp`."""
        if f is not None:
            f["transport"] = "tcp"
        if len(d) < o + 20:
            return self._cut(d, o, src, dst, "[|tcp]")
        sport, dport, seq, ack, offx, flags, win, csum, urp = TCP_HEADER.unpack_from(d, o)
        hlen = (offx >> 4) << 2
        fl = TCP_FLAGS[flags]
        if f is not None:
            f.update(sport=sport, dport=dport, tcp_flags=fl, seq=seq, ack=ack, win=win)
        head = (f"{src}.{sport} > {dst}.{dport}: Flags [{fl}]" if src
                else f"{sport} > {dport}: Flags [{fl}]")
        if hlen < 20:
            self._damage.bad = True
            return f"{head}, [bad hdr length {hlen} - too short, < 20]"
        if hlen > plen:
            self._damage.bad = True
            return f"{head}, [bad hdr length {hlen} - too long, > {plen}]"
        size = plen - hlen
        parts = [head]
        if self._verbose:
            parts.append(self._tcp_checksum(d, o, end, s, t, csum))
        sack_base = 0
        if flags & TH_ACK and self._seqs is not None:
            seq, ack, sack_base = self._seqs.relative((s, sport, t, dport), seq, ack, flags)
        if size > 0:
            parts.append(f", seq {seq}:{(seq + size) & 0xFFFFFFFF}")
        elif flags & SEQ_FLAGS:
            parts.append(f", seq {seq}")
        if flags & TH_ACK:
            parts.append(f", ack {ack}")
        parts.append(f", win {win}")
        if flags & TH_URG:
            parts.append(f", urg {urp}")
        if hlen > 20:
            text, whole = self._tcp_options(d, o, end, hlen, sack_base, flags)
            parts.append(text)
            if not whole:
                return "".join(parts)
        parts.append(f", length {size}")
        if size:
            parts.append(self._tcp_payload(d, o, hlen, end, size, sport, dport, f))
        return "".join(parts)

    def _tcp_payload(self, d: bytes, o: int, hlen: int, end: int, size: int, sport: int,
                     dport: int, f: Fields | None) -> str:
        """What follows the length of the segment at `o`: its printer's text, or "" when
        none has its ports.

        Options that end early (eol) can leave a header the capture cut unnoticed
        till here, where tcpdump says so before any printer.
        """
        if len(d) < o + hlen:
            self._damage.bad = True
            return f" [remaining caplen({len(d) - o}) < header length({hlen})] [|tcp]"
        o += hlen
        app = ports.printer(ports.TCP, sport, dport)
        if app is None:
            return ""
        if app is ports.dns_over_tcp:
            text, ok = dns.over_tcp(d[o:end], size, f, verbose=self._verbose > 0)
        else:
            text, ok = app(d[o:end], size)
        if not ok:
            self._damage.bad = True
        return ports.after_length(app, text)

    def _tcp_options(self, d: bytes, o: int, end: int, hlen: int, sack_base: int,
                     flags: int) -> tuple[str, bool]:
        """(the options' text, whether the line goes on after them).

        Cut short, the text says so; after a bad option tcpdump ends the line.
        The segment ends at `end`, which MD5's text tells whether the capture
        reached.
        """
        text, ok = tcpopts.options(d[o + 20:o + hlen], sack_base, flags, hlen - 20,
                                   len(d) >= end)
        if not ok:
            self._damage.bad = True
        return text, ok

    def _tcp_checksum(self, d: bytes, o: int, end: int, s: bytes, t: bytes, csum: int) -> str:
        if len(d) < end:
            return f", cksum 0x{csum:04x}"
        seg = d[o:end]
        pseudo = pseudo_header_raw(s, t, PROTO_TCP, len(seg))
        if checksum_ok(pseudo + seg):
            return f", cksum 0x{csum:04x} (correct)"
        self._damage.bad = True
        good = _correct_checksum(pseudo, seg, _CKSUM_AT[PROTO_TCP])
        return f", cksum 0x{csum:04x} (incorrect -> 0x{good:04x})"

    # -- ICMP -------------------------------------------------------------

    def icmp4(self, d: bytes, o: int, end: int, plen: int, f: Fields | None, depth: int,
              fragmented: bool) -> str:
        """The ICMP message's text (the IP layer puts the hosts before it)."""
        if f is not None:
            f["transport"] = "icmp"
        try:
            if f is not None and depth == 0:
                f.update(icmp_type=d[o], icmp_code=d[o + 1])
            text = icmptext.icmp4(d, o, plen)
        except TRUNCATED:
            text = icmptext.CUT4
        if text == icmptext.CUT4:
            self._damage.bad = True
            return text
        if self._verbose and not fragmented and len(d) >= end >= o + 4 \
                and not checksum_ok(d[o:end]):
            self._damage.bad = True
            text += f" (wrong icmp cksum {d[o + 2] << 8 | d[o + 3]:x})"
        return text

    def icmp6(self, d: bytes, o: int, end: int, plen: int, s: bytes, t: bytes,
              f: Fields | None, depth: int, fragmented: bool) -> str:
        """The ICMPv6 message's text, after -v's checksum note."""
        if f is not None:
            f["transport"] = "icmp6"
        try:
            if f is not None and depth == 0:
                f.update(icmp_type=d[o], icmp_code=d[o + 1])
            text = (icmptext.icmp6_verbose(d, o, plen, self._verbose) if self._verbose
                    else icmptext.icmp6(d, o, plen))
        except TRUNCATED:
            self._damage.bad = True
            return "ICMP6 [|icmp6]"
        if text.endswith(("[|icmp6]", "(invalid)")):
            self._damage.bad = True
        if self._verbose and not fragmented and len(d) >= end:
            text = self._checksum6(d[o:end], s, t, PROTO_ICMP6, "icmp6") + text
        return text
