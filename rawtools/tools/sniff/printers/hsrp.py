"""HSRP (Cisco's Hot Standby Router Protocol, RFC 2281; UDP port 1985) as tcpdump prints it."""

from __future__ import annotations

import socket

_OPS = ("hello", "coup", "resign")
_STATES = {0: "initial", 1: "learn", 2: "listen", 4: "speak", 8: "standby", 16: "active"}
_VIRTUAL_AT = 16  # after 8 one-byte fields and 8 bytes of authentication data
_TRUNCATED = " [|hsrp]"


def hsrp(p: bytes, length: int) -> tuple[str, bool]:
    """`HSRPv0-hello 20: state=active group=1 addr=198.18.0.254`; later versions: the name."""
    if not p:
        return _TRUNCATED, False
    if p[0] != 0:
        return f"HSRPv{p[0]}", True
    out = ["HSRPv0-"]
    if len(p) < 2:
        return out[0] + _TRUNCATED, False
    op = p[1]
    out.append(f"{_OPS[op] if op < len(_OPS) else f'unknown ({op})'} {length}: ")
    if len(p) < 3:
        return "".join(out) + _TRUNCATED, False
    out.append(f"state={_STATES.get(p[2]) or f'Unknown ({p[2]})'} ")
    if len(p) < 7:
        return "".join(out) + _TRUNCATED, False
    out.append(f"group={p[6]} ")
    if len(p) < 8:
        return "".join(out) + _TRUNCATED, False
    if p[7]:
        out.append(f"[reserved={p[7]}!] ")
    if len(p) < _VIRTUAL_AT + 4:
        return "".join(out) + _TRUNCATED, False
    out.append("addr=" + socket.inet_ntop(socket.AF_INET, p[_VIRTUAL_AT:_VIRTUAL_AT + 4]))
    return "".join(out), True
