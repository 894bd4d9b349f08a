"""VRRP (IP protocol 112; v2 RFC 3768, v3 RFC 5798) as tcpdump prints it without -v.

The IP TTL is part of the line: RFC 3768 §7.1 makes routers drop an
advertisement whose TTL is not 255 (it came from off the link), so tcpdump
shows any other value.
"""

from __future__ import annotations

import socket

from rawtools.tools.sniff.printers.chars import printable
from rawtools.wire.checksum import checksum_ok, pseudo_header_raw

_ADVERTISEMENT = 1
_AUTH = {0: "none", 1: "simple", 2: "ah"}
_TRUNCATED = " [|vrrp]"
_LINK_TTL = 255
_SIMPLE = 1  # authentication type 1: a plain-text password of 8 bytes
_PROTO_VRRP = 112


def vrrp(p: bytes, length: int, ttl: int, verbose: int = 0, src: bytes = b"",
         dst: bytes = b"") -> tuple[str, bool]:
    """`VRRPv2, Advertisement, vrid 7, prio 100, authtype none, intvl 1s, length 12`.

    With `verbose` also a wrong checksum (v3's covers the IP pseudo-header, so
    it takes the addresses `src` and `dst` as the header holds them; their size
    is also the virtual addresses'), the virtual addresses and a v2 simple
    authentication's password.
    """
    if not p:
        return "VRRP" + _TRUNCATED, False
    version, kind = p[0] >> 4, p[0] & 0x0F
    out = [f"VRRPv{version}, " + ("Advertisement" if kind == _ADVERTISEMENT
                                  else f"unknown type ({kind})")]
    if ttl != _LINK_TTL:
        out.append(f", (ttl {ttl})")
    if version not in (2, 3) or kind != _ADVERTISEMENT:
        return "".join(out), True
    if len(p) < 3:
        return "".join(out) + _TRUNCATED, False
    out.append(f", vrid {p[1]}, prio {p[2]}")
    if version == 2 and len(p) >= 5:
        out.append(f", authtype {_AUTH.get(p[4]) or f'#{p[4]}'}")
    if len(p) < 6:
        return "".join(out) + _TRUNCATED, False
    if version == 2:
        out.append(f", intvl {p[5]}s, length {length}")
    else:
        out.append(f", intvl {(p[4] & 0x0F) << 8 | p[5]}cs, length {length}")
    if not verbose:
        return "".join(out), True
    ok = _verbose(p, length, version, src, dst, out)
    return "".join(out), ok


def _verbose(p: bytes, length: int, version: int, src: bytes, dst: bytes,
             out: list[str]) -> bool:
    if len(p) >= length >= 8:
        pseudo = b"" if version == 2 else pseudo_header_raw(src, dst, _PROTO_VRRP, length)
        if not checksum_ok(pseudo + p[:length]):
            out.append(f", (bad vrrp cksum {p[6] << 8 | p[7]:x})")
    count = p[3]
    out.append(f", addrs({count}):" if count > 1 else ", addrs:")
    size, family = (16, socket.AF_INET6) if len(src) == 16 else (4, socket.AF_INET)
    at = 8
    for i in range(count):
        if len(p) < at + size:
            out.append(_TRUNCATED)
            return False
        out.append((" " if i == 0 else ",") + socket.inet_ntop(family, p[at:at + size]))
        at += size
    if version == 2 and p[4] == _SIMPLE:
        if len(p) < at + 8:
            out.append(_TRUNCATED)
            return False
        out.append(f' auth "{printable(p[at:at + 8])}"')
    return True
