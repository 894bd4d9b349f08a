"""802.2 LLC (and SNAP) frames: which printer their SAPs or SNAP protocol id call for.

tcpdump prints no LLC header without -e: an 802.3 frame carrying STP, IS-IS
Cisco's per-VLAN STP, UDLD or IPX reads as the protocol's own line. `payload` says
which printer and where its bytes start; frames it does not know keep the
decoder's short 802.3 line.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers import cdp, dtp, ipx, isis, stp, udld
from rawtools.tools.sniff.printers.ports import Printer

_UI = 0x03
_SAP_STP, _SAP_OSI, _SAP_SNAP, _SAP_IPX = 0x42, 0xFE, 0xAA, 0xE0
_NLPID_ISIS = 0x83
# SNAP (OUI, protocol id) -> printer: Cisco's PVST+ BPDUs, UDLD, DTP and CDP.
_SNAP = {(0x00000C, 0x010B): stp.stp, (0x00000C, 0x0111): udld.udld,
         (0x00000C, 0x2004): dtp.dtp, (0x00000C, 0x2000): cdp.cdp}
_LLC_LEN, _SNAP_LEN = 3, 5
_OUI_CISCO = 0x00000C
# Cisco protocol ids tcpdump has a printer for (CDP, VTP, DTP, UDLD, two of PVST+): any
# other gets its SNAP header line.
_CISCO_PRINTED = frozenset({0x2000, 0x2003, 0x2004, 0x0111, 0x010B, 0x010C})
CUT_LLC, CUT_SNAP = " [|llc]", " [|snap]"


def payload(p: bytes) -> tuple[Printer, int] | None:
    """(the printer, the offset of its bytes in `p`) for an LLC frame's payload, or None."""
    if len(p) < _LLC_LEN or p[2] != _UI or p[0] != p[1]:
        return None
    sap = p[0]
    if sap == _SAP_STP:
        return stp.stp, _LLC_LEN
    if sap == _SAP_IPX:
        return ipx.ipx, _LLC_LEN
    if sap == _SAP_OSI and len(p) > _LLC_LEN and p[_LLC_LEN] == _NLPID_ISIS:
        return isis.isis, _LLC_LEN
    if sap == _SAP_SNAP and len(p) >= _LLC_LEN + _SNAP_LEN:
        key = (int.from_bytes(p[3:6], "big"), int.from_bytes(p[6:8], "big"))
        printer = _SNAP.get(key)
        if printer is cdp.cdp and cdp.line(p[_LLC_LEN + _SNAP_LEN:],
                                           len(p) - _LLC_LEN - _SNAP_LEN) is None:
            return None  # a CDP frame whose line this decoder cannot tell
        if printer is not None:
            return printer, _LLC_LEN + _SNAP_LEN
    return None


def cut(p: bytes) -> str | None:
    """tcpdump's mark for an LLC header cut short (`p` as far as the frame goes), else None.

    Under three bytes no SAP can be read; a SNAP frame needs its five more
    for the OUI and protocol id.
    """
    if len(p) < _LLC_LEN:
        return CUT_LLC
    if p[0] == p[1] == _SAP_SNAP and p[2] == _UI and len(p) < _LLC_LEN + _SNAP_LEN:
        return CUT_SNAP
    return None


def unknown_snap(p: bytes, length: int) -> str | None:
    """`SNAP, oui Cisco (0x00000c), pid Unknown (0x0003), length 68: ` for a Cisco
    protocol id tcpdump has no printer for; None for any other frame.

    tcpdump then names the SNAP header itself, after the frame's addresses,
    with the length of what follows it. Only Cisco's OUI is named here: the
    names of the many others, and the EtherTypes under OUI 0, are tcpdump's
    tables that this decoder does not carry.
    """
    if len(p) < _LLC_LEN + _SNAP_LEN or not p[0] == p[1] == _SAP_SNAP or p[2] != _UI:
        return None
    oui, pid = int.from_bytes(p[3:6], "big"), int.from_bytes(p[6:8], "big")
    if oui != _OUI_CISCO or pid in _CISCO_PRINTED:
        return None
    return (f"SNAP, oui Cisco (0x{oui:06x}), pid Unknown (0x{pid:04x}), "
            f"length {length - _LLC_LEN - _SNAP_LEN}: ")
