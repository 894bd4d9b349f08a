"""VRRP (IP protocol 112; v2 RFC 3768, v3 RFC 5798) as tcpdump prints it without -v.

The IP TTL is part of the line: RFC 3768 §7.1 makes routers drop an
advertisement whose TTL is not 255 (it came from off the link), so tcpdump
shows any other value.
"""

from __future__ import annotations

_ADVERTISEMENT = 1
_AUTH = {0: "none", 1: "simple", 2: "ah"}
_TRUNCATED = " [|vrrp]"
_LINK_TTL = 255


def vrrp(p: bytes, length: int, ttl: int) -> tuple[str, bool]:
    """`VRRPv2, Advertisement, vrid 7, prio 100, authtype none, intvl 1s, length 12`."""
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
    return "".join(out), True
