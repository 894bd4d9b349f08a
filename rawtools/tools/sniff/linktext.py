"""The link layer in tcpdump's words: -e's header, the JSON link fields, ARP, and the rest.

`rawtools.wire.link` says where the payload starts and what the link header
held; this turns that into text (`02:00:00:00:00:01 > 02:00:00:00:00:02,
ethertype IPv4 (0x0800), length 46: `) and hands IPv4 and IPv6 to the IP
layer. ARP is read here, as its addresses are the link's. Payloads this
decoder does not know still get a short line that is true.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from rawtools.tools.sniff.dump import dump
from rawtools.tools.sniff.iptext import Addresses, IpText
from rawtools.tools.sniff.printers import (
    aarp,
    arista,
    eapol,
    fr,
    ipx,
    llc,
    lldp,
    loopback,
    macsec,
    mpls,
    msnlb,
    osi,
    pktap,
    ppp,
    pppoe,
    ptp,
    radiotap,
    slarp,
    slow,
    switchtag,
)
from rawtools.tools.sniff.printers.ports import Printer
from rawtools.tools.sniff.walk import Damage, Fields
from rawtools.wire import link

_ARP = struct.Struct("!HHBBH")
# ARP operations (RFC 826, RFC 903).
ARPOP_REQUEST, ARPOP_REPLY, ARPOP_REVREQUEST, ARPOP_REVREPLY = 1, 2, 3, 4
IP4_ADDR_LEN = 4

ETHERTYPE_NAMES = {
    link.ETHERTYPE_IP: "IPv4", link.ETHERTYPE_ARP: "ARP", link.ETHERTYPE_REVARP: "Reverse ARP",
    link.ETHERTYPE_IPV6: "IPv6", link.ETHERTYPE_8021Q: "802.1Q",
    link.ETHERTYPE_8021AD: "802.1Q-QinQ", link.ETHERTYPE_QINQ_OLD: "802.1Q-9100",
    link.ETHERTYPE_MPLS: "MPLS unicast", link.ETHERTYPE_MPLS_MULTI: "MPLS multicast",
    link.ETHERTYPE_PPPOED: "PPPoE D", link.ETHERTYPE_PPPOES: "PPPoE S",
    link.ETHERTYPE_EAPOL: "EAPOL", link.ETHERTYPE_LLDP: "LLDP",
    link.ETHERTYPE_MACSEC: "802.1AE MACsec",
    link.ETHERTYPE_PTP: "PTP", link.ETHERTYPE_LOOPBACK: "Loopback",
    link.ETHERTYPE_SLOW: "Slow Protocols", link.ETHERTYPE_TCPCOMP: "TCP/IP compression",
    link.ETHERTYPE_ERSPAN: "ERSPAN", link.ETHERTYPE_NSH: "NSH", link.ETHERTYPE_TRILL: "TRILL",
    link.ETHERTYPE_IPX: "IPX", link.ETHERTYPE_ATALK: "Appletalk",
    link.ETHERTYPE_AARP: "Appletalk ARP", link.ETHERTYPE_TEB: "Transparent Ethernet",
    arista.ETHERTYPE: "Arista Vendor Specific Protocol", msnlb.ETHERTYPE: msnlb.NAME,
}
# The printers of link-layer payloads other than IP and ARP, by EtherType.
ETHERTYPE_PRINTERS: dict[int, Printer] = {link.ETHERTYPE_PTP: ptp.ptp,
                                          link.ETHERTYPE_LOOPBACK: loopback.loopback,
                                          link.ETHERTYPE_OSI: osi.osi,
                                          link.ETHERTYPE_EAPOL: eapol.eapol,
                                          link.ETHERTYPE_LLDP: lldp.lldp,
                                          link.ETHERTYPE_IPX: ipx.ethernet_ii,
                                          link.ETH_P_802_3: ipx.ipx,
                                          link.ETHERTYPE_SLOW: slow.slow,
                                          msnlb.ETHERTYPE: msnlb.msnlb,
                                          link.ETHERTYPE_AARP: aarp.aarp}
# Printers of whole frames of link types without an EtherType to decapsulate to;
# None from one: not a frame it knows, the decoder's short line stays.
LinkPrinter = Callable[[bytes, int], tuple[str, bool] | None]
LINK_PRINTERS: dict[int, LinkPrinter] = {
    link.LINKTYPE_IEEE802_11_RADIOTAP: radiotap.radiotap, link.LINKTYPE_FRELAY: fr.frame,
    fr.LINKTYPE_MFR: fr.mfr}
# tcpdump's words for the Linux cooked packet types.
PACKET_TYPES = {link.PACKET_HOST: "In", link.PACKET_BROADCAST: "B", link.PACKET_MULTICAST: "M",
                link.PACKET_OTHERHOST: "P", link.PACKET_OUTGOING: "Out"}
_ARP_TYPES = (link.ETHERTYPE_ARP, link.ETHERTYPE_REVARP)
_802_3 = (link.ETH_P_802_2, link.ETH_P_802_3)
# tcpdump's mark for a link header cut short, by link type.
_CUT_NAMES = {link.LINKTYPE_ETHERNET: "ether", link.LINKTYPE_LINUX_SLL: "sll",
              link.LINKTYPE_LINUX_SLL2: "sll2", link.LINKTYPE_LOOP: "null",
              link.LINKTYPE_C_HDLC: "chdlc", link.LINKTYPE_FRELAY: "fr",
              link.LINKTYPE_SLIP: "slip",
              link.LINKTYPE_DSA_TAG_BRCM: "brcm-tag",
              link.LINKTYPE_DSA_TAG_BRCM_PREPEND: "brcm-tag-prepend",
              link.LINKTYPE_DSA_TAG_DSA: "dsa", link.LINKTYPE_DSA_TAG_EDSA: "edsa"}
_MPLS_TYPES = (link.ETHERTYPE_MPLS, link.ETHERTYPE_MPLS_MULTI)
# Link types whose decapsulation hands an OSI PDU over at its NLPID; under any
# other, EtherType 0xFEFE has a byte before it, which tcpdump's ethertype_print skips.
_OSI_AT_NLPID = (link.LINKTYPE_C_HDLC, link.LINKTYPE_FRELAY)
_PPPOE_TYPES = (link.ETHERTYPE_PPPOED, link.ETHERTYPE_PPPOES)
_VLAN_TYPES = (link.ETHERTYPE_8021Q, link.ETHERTYPE_8021AD, link.ETHERTYPE_QINQ_OLD)
# The words of each switch tag's link type (see `link.SWITCH_TAGS`).
_SWITCH_TAG_TEXT: dict[int, switchtag.TagText] = {
    link.LINKTYPE_DSA_TAG_BRCM: switchtag.brcm, link.LINKTYPE_DSA_TAG_BRCM_PREPEND: switchtag.brcm,
    link.LINKTYPE_DSA_TAG_DSA: switchtag.dsa, link.LINKTYPE_DSA_TAG_EDSA: switchtag.edsa}
# Link types whose -e header names the payload's protocol (an EtherType, a cooked
# capture's protocol), so that the payload's line does not start with it again.
_COOKED = (link.LINKTYPE_ETHERNET, link.LINKTYPE_LINUX_SLL, link.LINKTYPE_LINUX_SLL2,
           *_SWITCH_TAG_TEXT)


def mac(raw: bytes) -> str:
    return raw.hex(":")


def _ethertype_name(etype: int) -> str:
    return ETHERTYPE_NAMES.get(etype, "Unknown")


def ethertype(etype: int) -> str:
    """`IPv4 (0x0800)`, as tcpdump names an EtherType."""
    return f"{_ethertype_name(etype)} (0x{etype:04x})"


def names_protocol(linktype: int, link_header: bool) -> bool:
    """Whether -e's link header already names the protocol, as in tcpdump.

    Then the payload's line does not announce it again ("IP ", "ARP, ").
    """
    return link_header and linktype in _COOKED


class LinkText:
    """The whole line of a frame of one link type, but for the timestamp."""

    def __init__(self, linktype: int, ip: IpText, addresses: Addresses, damage: Damage,
                 link_header: bool, verbose: int = 0) -> None:
        self.linktype = linktype
        self.name = link.NAMES.get(linktype, f"link-type {linktype}")
        self._decap = link.decapsulator(linktype)
        self._ip = ip
        self._addresses = addresses
        self._damage = damage
        self._link_header = link_header
        self._plain_ether = linktype == link.LINKTYPE_ETHERNET and not link_header
        self._parp = "" if names_protocol(linktype, link_header) else "ARP, "
        self._verbose = verbose
        # -e's header for these is not written here: only without it.
        self._printer = None if link_header else LINK_PRINTERS.get(linktype)
        self._tag_text = _SWITCH_TAG_TEXT.get(linktype)
        self._tag_at = link.SWITCH_TAGS.get(linktype, (0, 0))
        # PKTAP's inner frames, by link type, each read by a LinkText of its own
        # (without -e only: tcpdump's -e words for the header are not written here).
        self._pktap: dict[int, LinkText] | None = \
            {} if linktype in pktap.LINKTYPES and not link_header else None

    def payload_offset(self, data: bytes) -> int:
        """Where the link header ends (0 where it cannot tell), for the dumps."""
        r = self._decap(data) if self._decap else None
        return r[1] if r else 0

    def frame(self, data: bytes, orig_len: int, f: Fields | None) -> str:
        """The frame's text; fills `f` with the fields of every layer when given."""
        if self._plain_ether and f is None:
            plain = link.untagged_ethertype(data)
            if plain == link.ETHERTYPE_IP:
                return self._ip.ip4(data, 14, orig_len - 14, None, 0)
            if plain == link.ETHERTYPE_IPV6:
                return self._ip.ip6(data, 14, orig_len - 14, None, 0)
        whole = self._whole(data, orig_len, f)
        if whole is not None:
            return whole
        if self._decap is None:
            return f"{self.name}, length {orig_len}"
        r = self._decap(data)
        if r is None:
            self._damage.bad = True
            return f" [|{_CUT_NAMES.get(self.linktype, self.name.lower())}]"
        etype, off, info = r
        if f is not None:
            _link_fields(f, etype, info)
        head = self._header(etype, info, orig_len, data) if self._link_header \
            else self._tag(data, False)
        length = orig_len - off
        if etype == link.ETHERTYPE_IP:
            return head + self._ip.ip4(data, off, length, f, 0)
        if etype == link.ETHERTYPE_IPV6:
            return head + self._ip.ip6(data, off, length, f, 0)
        if etype == slarp.ETHERTYPE and self.linktype == link.LINKTYPE_C_HDLC:
            text, ok = slarp.slarp(data[off:], length)
            self._damage.bad |= not ok
            return head + text
        if etype in _ARP_TYPES:
            return head + self._arp(data, off, length, f)
        other = self._other_payload(data, off, length, etype, info, self._link_header)
        if other is not None:
            return head + other
        if self._link_header:
            return head.rstrip(": ,")
        text = head + _other(etype, info, orig_len)
        if info.dst and etype is not None and etype not in _802_3:
            # tcpdump shows what it cannot decode in hex, after the frame's header.
            text += ": " + dump(data[off:], "X")
        return text

    def _whole(self, data: bytes, orig_len: int, f: Fields | None) -> str | None:
        """The text of a frame read whole, by a link type's printer or as the frame
        inside a PKTAP header; None for a frame the decapsulation below reads."""
        if self._pktap is not None:
            return self._pktap_frame(data, orig_len, f)
        return self._whole_frame(self._printer, data, orig_len) if self._printer else None

    def _pktap_frame(self, data: bytes, orig_len: int, f: Fields | None) -> str | None:
        """The frame inside a PKTAP header, as a capture of its own link type would
        print it; None for a link type this decoder does not have."""
        assert self._pktap is not None
        found = pktap.header(data, orig_len)
        if not found.ok:
            self._damage.bad = True
        if found.linktype is None:
            return found.text
        inner = self._pktap.get(found.linktype)
        if inner is None:
            inner = self._pktap[found.linktype] = LinkText(
                found.linktype, self._ip, self._addresses, self._damage, False, self._verbose)
        return inner.frame(data[found.offset:], orig_len - found.offset, f)

    def payload(self, etype: int, data: bytes, length: int, depth: int = 1) -> str | None:
        """A payload of EtherType `etype` (Geneve's, MACsec's), printed as a frame's would be.

        tcpdump's ethertype_print: IP, ARP and the other EtherTypes it knows,
        and a whole Ethernet frame for Transparent Ethernet Bridging; None for
        any other type (each caller says it its own way). IP names itself as
        a packet inside another (`depth` 1) unless it is the frame's own under
        -e's link header (0).
        """
        if etype == link.ETHERTYPE_IP:
            return self._ip.ip4(data, 0, length, None, depth)
        if etype == link.ETHERTYPE_IPV6:
            return self._ip.ip6(data, 0, length, None, depth)
        if etype in _ARP_TYPES:
            return self._arp(data, 0, length, None)
        if etype == link.ETHERTYPE_TEB:
            return self.frame(data, length, None)
        return self._other_payload(data, 0, length, etype, link.LinkInfo(), False)

    def _macsec(self, d: bytes, o: int, length: int, info: link.LinkInfo, headed: bool) -> str:
        """MACsec: the payload as the frame's own when only its integrity is protected;
        MACsec named, its SecTAG and a hex dump when it is encrypted or changed (see
        `printers.macsec`). With -e the SecTAG follows the link header either way."""
        tag = macsec.read(d[o:], length)
        if isinstance(tag, str):
            self._damage.bad = True
            return tag
        shown = tag.text if headed else ""
        if not tag.clear:
            if not headed:
                shown = f"{mac(info.src)} > {mac(info.dst)} 802.1AE MACsec, {tag.text}"
            return shown + dump(d[o + tag.size:], "X")
        at = o + tag.size
        if tag.payload < 2 or len(d) < at + 2:
            # Too short for the payload's EtherType: tcpdump's words for each case.
            self._damage.bad = True
            return shown + (macsec.CUT if tag.payload < 0 else
                            " [|ether]" if tag.payload == 0 or len(d) < at + 2 else
                            f" [caplen {tag.payload} < 2]")
        inner = d[at] << 8 | d[at + 1]
        body, size = d[at + 2:], tag.payload - 2
        if headed:
            text = self.payload(inner, body, size, 0) or dump(body[:size], "X")
            return f"{shown}ethertype {ethertype(inner)}, {text}"
        printed = self.payload(inner, body, size)
        if printed is not None:
            return printed
        return (f"{mac(info.src)} > {mac(info.dst)}, ethertype {ethertype(inner)}, "
                f"length {o + length}: {dump(body[:size], 'X')}")

    def _whole_frame(self, printer: LinkPrinter, data: bytes, orig_len: int) -> str | None:
        """The text of the link type's printer for the frame, or None if it knows no text."""
        found = printer(data, orig_len)
        if found is None:
            return None
        if not found[1]:
            self._damage.bad = True
        return found[0]

    def _tag(self, data: bytes, eflag: bool) -> str:
        """A switch tag's words ("" for other link types, and for a prepended
        tag without -e, which tcpdump only shows with it)."""
        at, size = self._tag_at
        if self._tag_text is None or (at == 0 and not eflag):
            return ""
        return self._tag_text(data[at:at + size], eflag, _ethertype_name)

    def _header(self, etype: int | None, info: link.LinkInfo, orig_len: int,
                data: bytes) -> str:
        """tcpdump -e's link header, ending where the payload text starts."""
        if etype is not None and (self.linktype == link.LINKTYPE_ETHERNET or self._tag_text):
            # A switch tag follows the addresses; a prepended one comes first, and
            # the frame's length is then the Ethernet frame's after it.
            tag = self._tag(data, True)
            before, after = ("", tag) if self._tag_at[0] else (tag, "")
            orig_len -= self._tag_at[1] if before else 0
            if info.length >= 0 and not info.vlans:
                head = f"{mac(info.src)} > {mac(info.dst)}, {after}802.3, length {orig_len}: "
            else:
                first = info.vlans[0][0] if info.vlans else etype
                head = (f"{mac(info.src)} > {mac(info.dst)}, {after}ethertype {ethertype(first)}"
                        f", length {orig_len}: ")
            return before + head + _vlan_text(info, etype)
        if info.pkttype >= 0:
            kind = PACKET_TYPES.get(info.pkttype, f"pkttype {info.pkttype}")
            where = f"ifindex {info.ifindex} " if info.ifindex >= 0 else ""
            addr = f" {mac(info.src)}" if info.src else ""
            if etype is None:
                return f"{where}{kind}{addr} hatype {info.hatype}, length {orig_len}: "
            first = info.vlans[0][0] if info.vlans else etype
            return (f"{where}{kind}{addr} ethertype {ethertype(first)}, length {orig_len}: "
                    + _vlan_text(info, etype))
        if info.family >= 0:
            return f"AF {info.family}, length {orig_len}: "
        return ""

    def _other_payload(self, data: bytes, off: int, length: int, etype: int | None,
                       info: link.LinkInfo, headed: bool) -> str | None:
        """The text of a payload neither IP nor ARP that a printer knows, else None.

        By EtherType (ETHERTYPE_PRINTERS), or, for an LLC frame whose header
        -e has not printed, by its SAPs (`printers.llc`); Cisco HDLC's other
        protocols get tcpdump's `unknown CHDLC protocol` line.
        """
        if etype == link.ETHERTYPE_OSI and self.linktype not in _OSI_AT_NLPID:
            return self._osi_after_pad(data, off, length)
        printer = ETHERTYPE_PRINTERS.get(etype) if etype is not None else None
        if printer is not None:
            text, ok = printer(data[off:], length)
            if not ok:
                self._damage.bad = True
            return text
        if etype in _MPLS_TYPES:
            return self._mpls(data, off, length)
        if etype == link.ETHERTYPE_MACSEC:
            return self._macsec(data, off, length, info, headed)
        if etype in _PPPOE_TYPES:
            return self._pppoe(data, off, length)
        if etype == arista.ETHERTYPE and not headed:
            return self._arista(data, off, length, info)
        if etype == link.ETH_P_802_2 and not headed:
            # The 802.3 length field cuts the frame short, never makes it longer.
            return self._llc(data, off, min(info.length, length) if info.length >= 0 else length,
                             info)
        if self.linktype == link.LINKTYPE_SLIP and etype is None and not headed:
            return f"ip v{data[off] >> 4}"   # neither IPv4 nor IPv6: tcpdump names the version
        if self.linktype == link.LINKTYPE_PPP and etype is None and not headed:
            return self._ppp_other(data, off, length)
        if self.linktype == link.LINKTYPE_C_HDLC and etype is not None and not headed:
            return f"unknown CHDLC protocol (0x{etype:04x})"
        return None

    def _ppp_other(self, d: bytes, o: int, length: int) -> str | None:
        """A PPP link's control, multilink or PAP packet (the protocol field just
        before `o`); None for the other protocols without an EtherType, which keep
        the decoder's short line."""
        head = ppp.header(d, o + length)
        proto = head[0] if head is not None and head[1] == o else -1
        found = ppp.payload(proto, d[o:], length) if proto in ppp.ON_LINK else None
        if found is None:
            return None
        self._damage.bad |= not found[1]
        return found[0]

    def _osi_after_pad(self, d: bytes, o: int, length: int) -> str:
        """An OSI PDU under EtherType 0xFEFE, after the byte tcpdump skips before its NLPID."""
        if length < 2 or len(d) < o + 2:
            self._damage.bad = True
            return " [|isoclns]"
        text, ok = osi.osi(d[o + 1:], length - 1)
        self._damage.bad |= not ok
        return text

    def _mpls(self, d: bytes, o: int, length: int) -> str:
        """The label stack, then IPv4, IPv6 or an OSI PDU as `mpls.payload_type` guesses.

        The IP layer is called as for a packet inside another (depth 1): it
        names itself, and the JSON fields stay the link's.
        """
        text, at, whole, bottom = mpls.stack(d[o:], self._verbose)
        if not whole:
            self._damage.bad = True
            return text
        o += at
        kind = mpls.payload_type(bottom, d[o:o + 1])
        # With -v the packet inside starts a line of its own, as tcpdump's does.
        sep = "\n\t" if self._verbose else " "
        if kind == mpls.IPV4:
            return f"{text}{sep}{self._ip.ip4(d, o, length - at, None, 1)}"
        if kind == mpls.IPV6:
            return f"{text}{sep}{self._ip.ip6(d, o, length - at, None, 1)}"
        if kind == mpls.OSI:
            inner, ok = osi.osi(d[o:], length - at)
            self._damage.bad |= not ok
            return f"{text}{sep}{inner}"
        # Nothing to tell what it is: tcpdump shows its bytes.
        return text + dump(d[o:o + max(0, length - at)], "X")

    def _arista(self, d: bytes, o: int, length: int, info: link.LinkInfo) -> str:
        """Arista's timestamp header, then the frame's own EtherType and payload.

        tcpdump names the EtherType and the frame's length before it, -e or
        not; after a header of a subtype or format it does not read, it
        prints the frame's line for an EtherType it does not know.
        """
        if len(d) < o + 2:
            self._damage.bad = True
            return arista.TRUNCATED.lstrip()  # tcpdump's mark alone: nothing else was read
        text, at, ok = arista.header(d[o:])
        orig_len = o + length
        head = f"ethertype {ethertype(arista.ETHERTYPE)}, length {orig_len}: {text}"
        if ok is None:
            return f"{head}{_other(arista.ETHERTYPE, info, orig_len)}: {dump(d[o:], 'X')}"
        if not ok:
            self._damage.bad = True
            return head
        o, length = o + at + 2, length - at - 2
        etype = d[o - 2] << 8 | d[o - 1]
        # VLAN tags after it print only with -e (which never comes here).
        while etype in _VLAN_TYPES and len(d) >= o + 4:
            etype = d[o + 2] << 8 | d[o + 3]
            o, length = o + 4, length - 4
        if etype == link.ETHERTYPE_IP:
            return head + self._ip.ip4(d, o, length, None, 1)
        if etype == link.ETHERTYPE_IPV6:
            return head + self._ip.ip6(d, o, length, None, 1)
        if etype in _MPLS_TYPES:
            return head + self._mpls(d, o, length)
        if etype in _ARP_TYPES:
            return head + self._arp(d, o, length, None)
        return f"{head}{_other(etype, info, orig_len)}: {dump(d[o:], 'X')}"

    def _pppoe(self, d: bytes, o: int, length: int) -> str:
        """PPPoE's header or discovery tags; in a session, the PPP frame after it."""
        text, size, ok = pppoe.pppoe(d[o:], length)
        if not ok:
            self._damage.bad = True
        if size < 0:
            return text
        return text + self._ip.ppp(d, o + pppoe.HEADER_LEN, size, 1)

    def _llc(self, d: bytes, o: int, length: int, info: link.LinkInfo) -> str | None:
        """The line of an LLC frame's payload whose printer `llc` knows; None for others.

        `length` is the 802.3 length field: what follows it is padding. A
        header cut short gets tcpdump's mark, and a Cisco SNAP protocol with
        no printer the frame's addresses and SNAP header, then its bytes.
        """
        p = d[o:o + length]
        mark = llc.cut(p)
        if mark is not None:
            self._damage.bad = True
            return mark
        found = llc.payload(p)
        if found is None:
            snap = llc.unknown_snap(p, length)
            if snap is None:
                return None
            return f"{mac(info.src)} > {mac(info.dst)} {snap}{dump(p[8:], 'X')}"
        printer, at = found
        text, ok = printer(d[o + at:o + length], length - at)
        if not ok:
            self._damage.bad = True
        return text

    def _arp(self, d: bytes, o: int, length: int, f: Fields | None) -> str:
        pre = self._parp
        if len(d) < o + 8:
            self._damage.bad = True
            return pre + "[|arp]"
        hrd, pro, hln, pln, op = _ARP.unpack_from(d, o)
        if f is not None:
            f.update(arp_op=op)
        if not hln or pln != IP4_ADDR_LEN or pro != link.ETHERTYPE_IP:
            return f"{pre}hardware {hrd}, protocol 0x{pro:04x}, op {op}, length {length}"
        # Hardware addresses of the link's own size: six bytes on Ethernet, one on ARCnet.
        spa_at, tha_at = o + 8 + hln, o + 12 + hln
        tpa_at = tha_at + hln
        if len(d) < tpa_at + 4:
            self._damage.bad = True
            return pre + "[|arp]"
        sha, tha = d[o + 8:spa_at], d[tha_at:tpa_at]
        spa = self._addresses.text4(d[spa_at:spa_at + 4])
        tpa = self._addresses.text4(d[tpa_at:tpa_at + 4])
        if f is not None:
            f.update(src=spa, dst=tpa)
        if self._verbose:
            # -v names the hardware and protocol types and their address sizes first.
            kind = _ARP_HARDWARE.get(hrd) or f"Unknown Hardware ({hrd})"
            pre = f"{pre}{kind} (len {hln}), IPv4 (len {pln}), "
        if op == ARPOP_REQUEST:
            who = f" ({mac(tha)})" if any(tha) else ""
            return f"{pre}Request who-has {tpa}{who} tell {spa}, length {length}"
        if op == ARPOP_REPLY:
            return f"{pre}Reply {spa} is-at {mac(sha)}, length {length}"
        rarp = "" if pre == "" else "RARP, "
        if op == ARPOP_REVREQUEST:
            return f"{rarp}Request who-is {mac(tha)} tell {mac(sha)}, length {length}"
        if op == ARPOP_REVREPLY:
            return f"{rarp}Reply {mac(tha)} at {tpa}, length {length}"
        return f"{pre}Unknown ({op}), length {length}"


# ARP's hardware types by the names tcpdump gives them at -v.
# (tcpdump reads ATM's ARP as another format, and shows Frame Relay's hardware
# addresses as DLCIs: neither is rebuilt here.)
_ARP_HARDWARE = {1: "Ethernet", 6: "TokenRing", 7: "ArcNet", 15: "FrameRelay", 23: "Strip",
                 24: "IEEE 1394", 32: "InfiniBand"}


def _link_fields(f: Fields, etype: int | None, info: link.LinkInfo) -> None:
    f["ethertype"] = etype
    if info.src:
        f["link_src"] = mac(info.src)
    if info.dst:
        f["link_dst"] = mac(info.dst)
    if info.vlans:
        f["vlans"] = [tci & 0xFFF for _, tci in info.vlans]
    if info.pkttype >= 0:
        f["pkttype"] = PACKET_TYPES.get(info.pkttype, str(info.pkttype))


def _vlan_text(info: link.LinkInfo, etype: int) -> str:
    parts = []
    tags = info.vlans
    for i, (_, tci) in enumerate(tags):
        inner = tags[i + 1][0] if i + 1 < len(tags) else etype
        dei = ", DEI" if tci & 0x1000 else ""
        parts.append(f"vlan {tci & 0xFFF}, p {tci >> 13}{dei}, ethertype {ethertype(inner)}, ")
    return "".join(parts)


def _other(etype: int | None, info: link.LinkInfo, orig_len: int) -> str:
    """A shorter but correct line for payloads this decoder does not know."""
    if etype in _802_3:
        addrs = f"{mac(info.src)} > {mac(info.dst)}, " if info.dst else ""
        return f"{addrs}802.3, length {orig_len}"
    if info.dst and etype is not None:
        return f"{mac(info.src)} > {mac(info.dst)}, ethertype {ethertype(etype)}, length {orig_len}"
    if etype is not None:
        return f"ethertype {ethertype(etype)}, length {orig_len}"
    if info.family >= 0:
        return f"AF {info.family}, length {orig_len}"
    if info.hatype >= 0:
        return f"hatype {info.hatype}, length {orig_len}"
    return f"unknown network protocol, length {orig_len}"
