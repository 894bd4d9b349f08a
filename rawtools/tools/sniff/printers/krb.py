"""Kerberos (UDP port 88): v4 messages as tcpdump's line shows them, v5 and v1-v3 by name.

A v4 message gives its byte order and type; a KDC request its client
principal (`name.instance@realm`), the lifetime asked for and the
service; a reply, an application request and an error their few fields;
the other types `(unknown)`. Strings run to a NUL and are printed as far as
they were captured, then `[|krb]`.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers.chars import printable

_V4 = 4
_V5_TAGS = frozenset({0x6A, 0x6B})  # ASN.1 application tags of AS-REQ and AS-REP
_OLD = frozenset({1, 2, 3})
_KDC_REQUEST, _KDC_REPLY, _APPL_REQUEST, _ERR_REPLY = 2, 4, 6, 10
_TYPES = {2: "KDC_REQUEST", 4: "KDC_REPLY", 6: "APPL_REQUEST", 8: "APPL_REQUEST_MUTUAL",
          10: "ERR_REPLY", 12: "PRIVATE", 14: "SAFE", 16: "APPL_ERR", 126: "DIE"}
_CUT = " [|krb]"


class _Cut(Exception):
    """The capture ended inside the message."""


class _Reader:
    """Reads the message in order, appending what tcpdump prints of it to `out`."""

    def __init__(self, p: bytes, at: int, little: bool) -> None:
        self.p, self.at, self.little = p, at, little
        self.out: list[str] = []

    def string(self) -> None:
        end = self.p.find(b"\0", self.at)
        if end < 0:
            self.out.append(printable(self.p[self.at:]))
            raise _Cut
        self.out.append(printable(self.p[self.at:end]))
        self.at = end + 1

    def number(self, size: int) -> int:
        if len(self.p) < self.at + size:
            raise _Cut
        value = int.from_bytes(self.p[self.at:self.at + size], "little" if self.little else "big")
        self.at += size
        return value

    def principal(self) -> None:
        """`name.instance@realm`, as the header of most v4 messages gives it."""
        self.string()
        self.out.append(".")
        self.string()
        self.out.append("@")
        self.string()


def _v4(r: _Reader, kind: int) -> None:
    if kind == _KDC_REQUEST:
        r.principal()
        r.number(4)  # the client's time
        r.out.append(f" {r.number(1) * 5}min ")
        r.string()
        r.out.append(".")
        r.string()
    elif kind == _KDC_REPLY:
        r.principal()
        r.number(10)  # time, ticket count, expiry, key version
        r.out.append(f" ({r.number(2)})")
    elif kind == _APPL_REQUEST:
        r.out.append(f"v{r.number(1)} ")
        r.string()
        r.out.append(f" ({r.number(1)})")
        r.out.append(f" ({r.number(1)})")
    elif kind == _ERR_REPLY:
        r.principal()
        r.number(4)  # the time
        r.out.append(f" #{r.number(2)} ")
    else:
        r.out.append("(unknown)")


def krb(p: bytes, length: int) -> tuple[str, bool]:
    if not p:
        return _CUT, False
    version = p[0]
    if version in _OLD:
        return f" v{version}", True
    if version in _V5_TAGS:
        return " v5", True
    if version != _V4:
        return "", True
    if len(p) < 2:
        return " v4" + _CUT, False
    kind = p[1] & 0xFE
    r = _Reader(p, 2, bool(p[1] & 1))
    r.out.append(f" v4 {'le' if r.little else 'be'} {_TYPES.get(kind, f'#{kind}')}: ")
    try:
        _v4(r, kind)
    except _Cut:
        return "".join(r.out) + _CUT, False
    return "".join(r.out), True
