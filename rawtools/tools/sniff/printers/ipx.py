"""Novell IPX (802.2 SAP 0xE0, raw 802.3, EtherType 0x8137): addresses, then by socket.

tcpdump names the destination socket's protocol: SAP and RIP get their
operation and entries (SAP names escaped as tcpdump shows unprintable
bytes: `^A`, `M-x`), the other known sockets their name and the payload
length the IPX header gives, unknown ones `ipx-#SOCKET`.
"""

from __future__ import annotations

import struct

from rawtools.tools.sniff.printers import eigrp
from rawtools.tools.sniff.printers.chars import printable

_HEADER = struct.Struct("!HHBB4s6sH4s6sH")
_HEADER_LEN = 30
_SAP, _RIP, _EIGRP = 0x0452, 0x0453, 0x85BE
_NAMED = {0x0451: "ncp", 0x0455: "netbios", 0x0456: "diags", 0x0553: "nwlink-dgm"}
_SAP_OPS = {1: "req", 2: "resp", 3: "nearest-req", 4: "nearest-resp"}
_SAP_ENTRY = struct.Struct("!H48s4s6s")
_SAP_ENTRY_LEN = 64  # type, name, network, node, socket, hops
_RIP_ENTRY = struct.Struct("!IHH")
_RIP_REQUEST, _RIP_RESPONSE = 1, 2


def _address(net: bytes, node: bytes) -> str:
    return f"{net.hex()}.{node.hex(':')}"


def _sap(p: bytes, end: int) -> str:
    if len(p) < 2:
        return " [|ipx]"
    op = p[0] << 8 | p[1]
    name = _SAP_OPS.get(op)
    if name is None:
        return f"ipx-sap-?{op:x}"
    out = [f"ipx-sap-{name}"]
    if op in (1, 3):
        if len(p) >= 4:
            out.append(f" {p[2] << 8 | p[3]:04x}")
        return "".join(out)
    i = 2
    while i + _SAP_ENTRY_LEN <= end:
        kind, server, net, node = _SAP_ENTRY.unpack_from(p, i)
        shown = printable(server.split(b"\0", 1)[0])
        out.append(f" {kind:04x} '{shown}' addr {_address(net, node)}")
        i += _SAP_ENTRY_LEN
    return "".join(out)


def _rip(p: bytes, end: int) -> str:
    if len(p) < 2:
        return " [|ipx]"
    op = p[0] << 8 | p[1]
    if op not in (_RIP_REQUEST, _RIP_RESPONSE):
        return f"ipx-rip-?{op:x}"
    out = ["ipx-rip-req" if op == _RIP_REQUEST else "ipx-rip-resp"]
    i = 2
    while i + _RIP_ENTRY.size <= end:
        net, hops, ticks = _RIP_ENTRY.unpack_from(p, i)
        out.append(f" {net:08x}/{hops}.{ticks}")
        if op == _RIP_REQUEST:
            break  # a request asks for one network
        i += _RIP_ENTRY.size
    return "".join(out)


def ipx(p: bytes, length: int) -> tuple[str, bool]:
    if len(p) < _HEADER_LEN:
        return "IPX  [|ipx]", False
    _, ilen, _, _, dnet, dnode, dsock, snet, snode, ssock = _HEADER.unpack_from(p)
    head = (f"IPX {_address(snet, snode)}.{ssock:04x} > {_address(dnet, dnode)}.{dsock:04x}: ")
    if ilen < _HEADER_LEN:
        return f"{head}[length {ilen} < {_HEADER_LEN}] (invalid)", False
    size = ilen - _HEADER_LEN
    body = p[_HEADER_LEN:ilen]
    if dsock == _SAP:
        return head + _sap(body, min(size, len(body))), True
    if dsock == _RIP:
        return head + _rip(body, min(size, len(body))), True
    if dsock == _EIGRP:
        text, ok = eigrp.eigrp(body, size)
        return head + text, ok
    return f"{head}ipx-{_NAMED.get(dsock, f'#{dsock:x}')} {size}", True


def ethernet_ii(p: bytes, length: int) -> tuple[str, bool]:
    """IPX under EtherType 0x8137, which tcpdump marks as Novell's Ethernet II framing."""
    text, ok = ipx(p, length)
    return "(NOV-ETHII) " + text, ok

