"""TCP options as tcpdump lists them: `options [mss 1460,sackOK,TS val 1 ecr 0]`.

Options are only read when present (most segments after the handshake carry
just timestamps), so this is plain code rather than the fixed-offset tricks
of the hot path; a length that runs past the header ends the list with
`[bad opt]` instead of guessing.
"""

from __future__ import annotations

import struct

from rawtools.tools.sniff.printers import mptcp

_H = struct.Struct("!H")
_II = struct.Struct("!II")
_NOP_NOP_TS = b"\x01\x01\x08\x0a"
_SCPS_LEN = 2  # capabilities and connection id

# Option kinds (IANA; dpkt's names where it has them).
TCP_OPT_EOL, TCP_OPT_NOP, TCP_OPT_MSS, TCP_OPT_WSCALE, TCP_OPT_SACKOK = 0, 1, 2, 3, 4
TCP_OPT_SACK, TCP_OPT_TIMESTAMP, TCP_OPT_MD5, TCP_OPT_UTO = 5, 8, 19, 28
TCP_OPT_SCPS, TCP_OPT_MPTCP, TCP_OPT_TFO = 20, 30, 34
TCP_OPT_EXP1, TCP_OPT_EXP2 = 253, 254  # RFC 6994 experiments


def options(opts: bytes, sack_base: int, flags: int) -> tuple[str, bool]:
    """(`", options [...]"`, whether every option was well formed).

    `sack_base` is subtracted from SACK edges so they read like the relative
    ack numbers beside them (0 when printing absolute numbers); `flags` are
    the segment's, which MPTCP's option sizes depend on. After an option
    that is not well formed tcpdump prints nothing more of the segment, so
    neither does its caller.
    """
    if len(opts) == 12 and opts[:4] == _NOP_NOP_TS:
        # What nearly every segment after the handshake carries.
        val, ecr = _II.unpack_from(opts, 4)
        return f", options [nop,nop,TS val {val} ecr {ecr}]", True
    out: list[str] = []
    i, n = 0, len(opts)
    while i < n:
        kind = opts[i]
        if kind == TCP_OPT_EOL:
            out.append("eol")
            break
        if kind == TCP_OPT_NOP:
            out.append("nop")
            i += 1
            continue
        if i + 1 >= n or opts[i + 1] < 2 or i + opts[i + 1] > n:
            return _bad(out, ""), False
        ln = opts[i + 1]
        if kind == TCP_OPT_SCPS:
            if n - i - 2 < _SCPS_LEN:
                return _bad(out, "scps"), False
            out.append(_scps(opts[i + 2:i + 2 + _SCPS_LEN], ln))
            i += 2 + _SCPS_LEN
            continue
        if kind == TCP_OPT_MPTCP:
            text, ok = mptcp.mptcp(opts[i:i + ln], flags)
            if not ok:
                return _bad(out, text), False
            out.append(text)
        else:
            out.append(_option(kind, ln, opts[i + 2:i + ln], sack_base))
        i += ln
    return ", options [" + ",".join(out) + "]", True


def _bad(done: list[str], text: str) -> str:
    """tcpdump's list ending at a bad option: its closing bracket only after another option."""
    return ", options [" + ",".join([*done, text + "[bad opt]"]) + ("]" if done else "")


def _scps(data: bytes, ln: int) -> str:
    """SCPS capabilities (kind 20): tcpdump reads its two bytes whatever the length field
    says, notes a length other than 4, and goes on after those two bytes."""
    return f"scps cap {data[0]:02x} id {data[1]}" + ("" if ln == 2 + _SCPS_LEN else f"[len {ln}]")


def _option(kind: int, ln: int, data: bytes, sack_base: int) -> str:
    """One option's text; `ln` is its length field, `data` what follows it."""
    if kind == TCP_OPT_MSS and ln == 4:
        return f"mss {_H.unpack(data)[0]}"
    if kind == TCP_OPT_WSCALE and ln == 3:
        return f"wscale {data[0]}"
    if kind == TCP_OPT_SACKOK and ln == 2:
        return "sackOK"
    if kind == TCP_OPT_SACK and (ln - 2) % 8 == 0:
        edges = [_II.unpack_from(data, j) for j in range(0, ln - 2, 8)]
        blocks = "".join(f"{{{(s - sack_base) & 0xFFFFFFFF}:{(e - sack_base) & 0xFFFFFFFF}}}"
                         for s, e in edges)
        return f"sack {len(edges)} {blocks}"
    if kind == TCP_OPT_TIMESTAMP and ln == 10:
        val, ecr = _II.unpack(data)
        return f"TS val {val} ecr {ecr}"
    if kind == TCP_OPT_MD5 and ln == 18:
        return "md5 shared secret not supplied with -M, can't check - " + data.hex()
    if kind == TCP_OPT_UTO and ln == 4:
        return f"uto {_H.unpack(data)[0]}"
    if kind in (TCP_OPT_EXP1, TCP_OPT_EXP2) and ln >= 4:
        return f"exp-{data[:2].hex()}"
    if kind == TCP_OPT_TFO:
        return "tfo cookie " + data.hex() if data else "tfo cookiereq"
    return f"unknown-{kind} 0x{data.hex()}" if data else f"unknown-{kind}"
