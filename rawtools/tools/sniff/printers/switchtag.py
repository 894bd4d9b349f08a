"""Switch tags: the headers a switch chip's CPU port adds to every frame it passes up.

Linux DSA captures on a switch's conduit interface keep them: Broadcom's
4-byte tag (link type DSA_TAG_BRCM, between the source address and the
EtherType, or DSA_TAG_BRCM_PREPEND, before the whole frame) and Marvell's
4-byte DSA and 8-byte EDSA tags (DSA_TAG_DSA, DSA_TAG_EDSA, where the
EtherType would be). They say which port a frame came in on or goes out of,
which is why someone captures there at all, so tcpdump prints them even
without -e; each function here is given the tag's bytes and whether -e is
on, and answers tcpdump's words for it, ending in ", ".
"""

from __future__ import annotations

from collections.abc import Callable

# Marvell's tag modes (the top two bits of the tag) and the codes of To_CPU frames.
_TO_CPU, _FROM_CPU, _TO_SNIFFER, _FORWARD = 0, 1, 2, 3
_MODES = {_TO_CPU: "To CPU", _FROM_CPU: "From CPU", _TO_SNIFFER: "To Sniffer",
          _FORWARD: "Forward"}
_CODES = {0: "BPDU (MGMT) Trap", 1: "Frame2Reg", 2: "IGMP/MLD Trap", 3: "Policy Trap",
          4: "ARP Mirror", 5: "Policy Mirror"}
# Broadcom's ingress tag-enforcement values and egress reason codes (one bit each).
_TE = {0: "None", 1: "Untag", 2: "Header", 3: "Reserved"}
_RC = {1: "mirror", 2: "MAC learning", 4: "switching", 8: "prot term", 16: "prot snoop",
       32: "exception"}
_BRCM_INGRESS = 0x20

TagText = Callable[[bytes, bool, Callable[[int], str]], str]
"""(the tag's bytes, -e, the name of an EtherType) -> the tag's text."""


def brcm(tag: bytes, eflag: bool, names: Callable[[int], str]) -> str:
    """Broadcom's tag; the same words with -e or without.

    The opcode is printed as ingress whenever the first byte is non-zero but
    read as ingress only from its bit 5, as tcpdump does.
    """
    b0, b1, b2, b3 = tag[:4]
    text = f"BRCM tag OP: {'IG' if b0 else 'EG'}"
    if b0 & _BRCM_INGRESS:
        dst_map = (b2 << 8 | b3) & 0x1FF
        text += (f", TC: {b1 >> 2 & 7}, TE: {_TE[b1 & 3]}, TS: {b1 >> 7}"
                 f", DST map: 0x{dst_map:04x}")
    else:
        text += (f", CID: {b1}, RC: {_RC.get(b2, 'reserved')}, TC: {b3 >> 5 & 7}"
                 f", port: {b3 & 0x1F}")
    return text + ", "


def _marvell(tag: bytes, eflag: bool) -> str:
    """The 4 bytes DSA and EDSA share: mode, device, port or trunk, VLAN."""
    b0, b1, b2, b3 = tag[:4]
    mode, dev, port = b0 >> 6, b0 & 0x1F, b1 >> 3
    tagged = b0 & 0x20
    bit18 = b1 & 0x04  # Forward: a trunk; To_Sniffer: the ingress side
    vid = (b2 & 0x0F) << 8 | b3
    if not eflag:
        where = {_FORWARD: f"Forward {'trunk' if bit18 else 'port'} {dev}.{port}, ",
                 _FROM_CPU: f"CPU > port {dev}.{port}, ",
                 _TO_CPU: f"port {dev}.{port} > CPU, ",
                 _TO_SNIFFER: f"port {dev}.{port} > {'Rx' if bit18 else 'Tx'} Sniffer, "}[mode]
        return f"{where}VLAN {vid}{'t' if tagged else 'u'}, "
    code = (b1 & 0x06) | (b2 >> 4 & 1)
    what = {_FORWARD: f"dev {dev}, {'trunk' if bit18 else 'port'} {port}, ",
            _FROM_CPU: f"target dev {dev}, port {port}, ",
            _TO_CPU: f"source dev {dev}, port {port}, code {_CODES.get(code, 'reserved')}, ",
            _TO_SNIFFER: f"source dev {dev}, port {port}, "
                         f"{'ingress' if bit18 else 'egress'} sniff, "}[mode]
    return (f"mode {_MODES[mode]}, {what}{'tagged' if tagged else 'untagged'}, "
            f"{'CFI, ' if b1 & 1 else ''}VID {vid}, FPri {b2 >> 5}, ")


def dsa(tag: bytes, eflag: bool, names: Callable[[int], str]) -> str:
    return ("Marvell DSA " if eflag else "DSA ") + _marvell(tag, eflag)


def edsa(tag: bytes, eflag: bool, names: Callable[[int], str]) -> str:
    """EDSA: a programmable EtherType and two reserved bytes, then a DSA tag."""
    etype = tag[0] << 8 | tag[1]
    if eflag:
        head = f"Marvell EDSA ethertype 0x{etype:04x} ({names(etype)}), rsvd {tag[2]} {tag[3]}, "
    else:
        head = f"EDSA 0x{etype:04x}, "
    return head + _marvell(tag[4:], eflag)
