"""The MPTCP option (TCP option 30, RFC 6824/8684) as tcpdump 4.99 lists it.

`mptcp 12 capable v0 csum {0x...}`, `mptcp 20 dss ack 1 seq 2 subseq 3 len 4
csum 0x5`, ... Each subtype has the sizes tcpdump accepts (which depend on
the segment's SYN and ACK flags); any other size is tcpdump's `[bad opt]`,
which ends the option list and the line.
"""

from __future__ import annotations

import socket

_SYN, _ACK = 0x02, 0x10
_NAMES = ("capable", "join", "dss", "add-addr", "rem-addr", "prio", "fail", "fast-close")
_ADD_ADDR_KINDS = {0x6: "v0-ip6", 0x4: "v0-ip4", 0x1: "v1-echo", 0x0: "v1"}
# A size tcpdump refuses: nothing more of the option is printed.
_BAD = ("", False)
_DSS_F, _DSS_SEQ8, _DSS_MAP, _DSS_ACK8, _DSS_ACKED = 0x10, 0x08, 0x04, 0x02, 0x01


def _n(b: bytes) -> int:
    return int.from_bytes(b, "big")


def mptcp(opt: bytes, tcp_flags: int) -> tuple[str, bool]:
    """(`mptcp LEN SUBTYPE ...`, well formed); `opt` is the whole option, kind and length
    included, as far as its length field says."""
    n = len(opt)
    if n < 3:
        return "mptcp", False
    subtype = min(opt[2] >> 4, len(_NAMES))
    head = f"mptcp {n} {_NAMES[subtype] if subtype < len(_NAMES) else 'unknown'}"
    if subtype == len(_NAMES):
        return head, True
    body, ok = _PRINTERS[subtype](opt, tcp_flags)
    return head + body, ok


def _capable(o: bytes, flags: int) -> tuple[str, bool]:
    n = len(o)
    if not ((n in (12, 4) and flags & _SYN) or (n in (20, 22) and flags & (_SYN | _ACK) == _ACK)):
        return _BAD
    version = o[2] & 0xF
    if version > 1:
        return f" Unknown Version ({version})", True
    text = f" v{version}" + (" csum" if o[3] & 0x80 else "")
    if n == 12 or n >= 20:
        text += f" {{0x{_n(o[4:12]):x}" + (f",0x{_n(o[12:20]):x}" if n >= 20 else "") + "}"
    return text, True


def _join(o: bytes, flags: int) -> tuple[str, bool]:
    n = len(o)
    if not ((n == 12 and flags & _SYN) or (n == 16 and flags & (_SYN | _ACK) == _SYN | _ACK)
            or (n == 24 and flags & _ACK)):
        return _BAD
    text = "" if n == 24 else (" backup" if o[2] & 1 else "") + f" id {o[3]}"
    if n == 12:
        return text + f" token 0x{_n(o[4:8]):x} nonce 0x{_n(o[8:12]):x}", True
    if n == 16:
        return text + f" hmac 0x{_n(o[4:12]):x} nonce 0x{_n(o[12:16]):x}", True
    return text + " hmac 0x" + o[4:24].hex(), True


def _dss(o: bytes, flags: int) -> tuple[str, bool]:
    if len(o) < 4 or flags & _SYN:
        return _BAD
    f = o[3]
    parts = [" fin"] if f & _DSS_F else []
    i = 4
    # (name, size, whether tcpdump prints the name before it checks the size)
    fields: list[tuple[str, int, bool]] = []
    if f & _DSS_ACKED:
        fields.append((" ack ", 8 if f & _DSS_ACK8 else 4, True))
    if f & _DSS_MAP:
        fields += [(" seq ", 8 if f & _DSS_SEQ8 else 4, True), (" subseq ", 4, False),
                   (" len ", 2, False)]
    for name, size, named_first in fields:
        if len(o) - i < size:
            return "".join(parts) + (name if named_first else ""), False
        parts.append(f"{name}{_n(o[i:i + size])}")
        i += size
    if f & _DSS_MAP and len(o) - i >= 2:
        parts.append(f" csum 0x{_n(o[i:i + 2]):x}")
        i += 2
    return "".join(parts), i == len(o)


def _add_addr(o: bytes, flags: int) -> tuple[str, bool]:
    n = len(o)
    if n not in (8, 10, 16, 18, 20, 22, 28, 30):
        return _BAD
    text = f" {_ADD_ADDR_KINDS.get(o[2] & 0xF, '[bad version/echo]')} id {o[3]}"
    v4 = n <= 18
    end = 8 if v4 else 20
    text += " " + socket.inet_ntop(socket.AF_INET if v4 else socket.AF_INET6, o[4:end])
    if n in (10, 18, 22, 30):
        text += f":{_n(o[end:end + 2])}"
        end += 2
    if n in (16, 18, 28, 30):
        text += f" hmac 0x{_n(o[end:end + 8]):x}"
    return text, True


def _rem_addr(o: bytes, flags: int) -> tuple[str, bool]:
    return (" id" + "".join(f" {b}" for b in o[3:]), True) if len(o) >= 4 else _BAD


def _prio(o: bytes, flags: int) -> tuple[str, bool]:
    if len(o) not in (3, 4):
        return _BAD
    return (" backup" if o[2] & 1 else " non-backup") + (f" id {o[3]}" if len(o) == 4 else ""), True


def _fail(o: bytes, flags: int) -> tuple[str, bool]:
    return (f" seq {_n(o[4:12])}", True) if len(o) == 12 else _BAD


def _fast_close(o: bytes, flags: int) -> tuple[str, bool]:
    return (f" key 0x{_n(o[4:12]):x}", True) if len(o) == 12 else _BAD


_PRINTERS = (_capable, _join, _dss, _add_addr, _rem_addr, _prio, _fail, _fast_close)
