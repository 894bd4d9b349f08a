"""TCP options as tcpdump lists them: `options [mss 1460,sackOK,TS val 1 ecr 0]`.

Options are only read when present (most segments after the handshake carry
just timestamps), so this is plain code rather than the fixed-offset tricks
of the hot path.

tcpdump's model, followed here to the byte: an option's length field must
fit in what the header declares, or the list ends with `[bad opt]`; then
each kind reads the data it knows the size of (MSS two bytes, timestamps
eight...) whatever its length field says, notes a length field that
disagrees (`[len 6]`), and the next option starts after the data it read;
kinds of no fixed size read what the length field gives. Bytes the capture
cut off end the list with ` [|tcp]`, after what was read of the option.
"""

from __future__ import annotations

import struct

from rawtools.tools.sniff.printers import mptcp

_H = struct.Struct("!H")
_I = struct.Struct("!I")
_II = struct.Struct("!II")
_NOP_NOP_TS = b"\x01\x01\x08\x0a"

# Option kinds (IANA; dpkt's names where it has them).
TCP_OPT_EOL, TCP_OPT_NOP, TCP_OPT_MSS, TCP_OPT_WSCALE, TCP_OPT_SACKOK = 0, 1, 2, 3, 4
TCP_OPT_SACK, TCP_OPT_ECHO, TCP_OPT_ECHOREPLY, TCP_OPT_TIMESTAMP = 5, 6, 7, 8
TCP_OPT_CC, TCP_OPT_CCNEW, TCP_OPT_CCECHO = 11, 12, 13  # RFC 1644, historic
TCP_OPT_MD5, TCP_OPT_SCPS, TCP_OPT_UTO, TCP_OPT_AO = 19, 20, 28, 29
TCP_OPT_MPTCP, TCP_OPT_TFO = 30, 34
TCP_OPT_EXP2 = 254  # RFC 6994's shared experiment kind, the one tcpdump reads
_TFO_MAGIC = 0xF989  # TCP Fast Open's experiment id (RFC 7413)

# tcpdump's names of the kinds it knows; the others print as `unknown-N`.
_NAMES = {TCP_OPT_EOL: "eol", TCP_OPT_NOP: "nop", TCP_OPT_MSS: "mss",
          TCP_OPT_WSCALE: "wscale", TCP_OPT_SACKOK: "sackOK", TCP_OPT_SACK: "sack",
          TCP_OPT_ECHO: "echo", TCP_OPT_ECHOREPLY: "echoreply", TCP_OPT_TIMESTAMP: "TS",
          TCP_OPT_CC: "cc", TCP_OPT_CCNEW: "ccnew", TCP_OPT_CCECHO: "ccecho",
          TCP_OPT_MD5: "md5", TCP_OPT_SCPS: "scps", TCP_OPT_UTO: "uto", TCP_OPT_AO: "tcp-ao",
          TCP_OPT_MPTCP: "mptcp", TCP_OPT_TFO: "tfo", TCP_OPT_EXP2: "exp"}
# The data each kind of a fixed size reads, whatever its length field says.
_SIZES = {TCP_OPT_MSS: 2, TCP_OPT_WSCALE: 1, TCP_OPT_SACKOK: 0, TCP_OPT_ECHO: 4,
          TCP_OPT_ECHOREPLY: 4, TCP_OPT_TIMESTAMP: 8, TCP_OPT_CC: 4, TCP_OPT_CCNEW: 4,
          TCP_OPT_CCECHO: 4, TCP_OPT_MD5: 16, TCP_OPT_SCPS: 2, TCP_OPT_UTO: 2}
# Kinds read byte by byte, which show what the capture holds of them before its mark.
_BYTEWISE = (TCP_OPT_SACK, TCP_OPT_AO)


class _Bad(Exception):
    """An option tcpdump refuses after naming it: `[bad opt]` ends the list."""


def options(opts: bytes, sack_base: int, flags: int, size: int | None = None,
            whole: bool = True) -> tuple[str, bool]:
    """(`", options [...]"`, whether the line goes on after it).

    `sack_base` is subtracted from SACK edges so they read like the relative
    ack numbers beside them (0 when printing absolute numbers); `flags` are
    the segment's, which MPTCP's option sizes depend on. `size` is the
    options' length as the header gives it, when the capture (`opts`) holds
    fewer bytes; `whole`, whether the capture holds the whole segment (an
    MD5 signature could be checked only then, and tcpdump says which it
    lacks). After a bad option, or the capture's end, tcpdump prints nothing
    more of the segment, so neither does the caller.
    """
    if size is None:
        size = len(opts)
    if size == len(opts) == 12 and opts[:4] == _NOP_NOP_TS:
        # What nearly every segment after the handshake carries.
        val, ecr = _II.unpack_from(opts, 4)
        return f", options [nop,nop,TS val {val} ecr {ecr}]", True
    out: list[str] = []
    i, n, cap = 0, size, len(opts)
    while i < n:
        if i >= cap:
            return _cut(out, "")  # the next option's kind is not in the capture
        kind = opts[i]
        if kind == TCP_OPT_EOL:
            out.append("eol")
            break
        if kind == TCP_OPT_NOP:
            out.append("nop")
            i += 1
            continue
        if i + 1 >= cap and cap < n:
            return _cut(out, "")  # nor its length
        if i + 1 >= n or opts[i + 1] < 2 or i + opts[i + 1] > n:
            return _bad(out, ""), False
        ln, at = opts[i + 1], i + 2
        name = _NAMES.get(kind) or f"unknown-{kind}"
        want = _SIZES.get(kind, ln - 2)
        if at + want > n:
            return _bad(out, name), False
        if at + want > cap:
            got = opts[at:cap]
            if kind not in _BYTEWISE:
                return _cut(out, name + (f" 0x{got.hex()}" if kind not in _NAMES and want else ""))
            if _reads_data(kind, ln):
                return _cut(out, _read(kind, name, ln, got, sack_base))
        try:
            text = _option(kind, name, ln, opts[at:at + want], sack_base, flags, opts[i:i + ln],
                           whole)
        except _Bad as bad:
            return _bad(out, str(bad)), False
        out.append(text if want + 2 == ln else f"{text}[len {ln}]")
        i = at + want
    return ", options [" + ",".join(out) + "]", True


def _bad(done: list[str], text: str) -> str:
    """tcpdump's list ending at a bad option: its closing bracket only after another option."""
    return ", options [" + ",".join([*done, text + "[bad opt]"]) + ("]" if done else "")


def _cut(done: list[str], text: str) -> tuple[str, bool]:
    """tcpdump's list ending where the capture does: what it read of the cut option,
    then the mark.

    Where the cut falls inside an option's data (`text` names it) after other
    options, tcpdump's own check adds a stray `>`; a kind or length byte
    missing ends the line without one.
    """
    return ", options [" + ",".join([*done, text]) + " [|tcp]" + (">" if text and done else ""), \
        False


def _option(kind: int, name: str, ln: int, data: bytes, sack_base: int, flags: int,
            option: bytes, whole: bool) -> str:
    """One option's text from the `data` its kind reads (`option`: all of it, its kind
    and length bytes included, for MPTCP's printer; `whole` as for `options`); raises
    _Bad where tcpdump refuses it."""
    if kind in (TCP_OPT_MSS, TCP_OPT_UTO):
        value = _H.unpack(data)[0]
        if kind == TCP_OPT_MSS:
            return f"mss {value}"
        # The user timeout's low bit says minutes (RFC 5482).
        return f"uto 0x{value:x} {(value >> 1) * 60 if value & 1 else value >> 1}"
    if kind == TCP_OPT_WSCALE:
        return f"wscale {data[0]}"
    if kind == TCP_OPT_TIMESTAMP:
        val, ecr = _II.unpack(data)
        return f"TS val {val} ecr {ecr}"
    if len(data) == 4 and _SIZES.get(kind) == 4:
        return f"{name} {_I.unpack(data)[0]}"
    if kind == TCP_OPT_MD5:
        why = "shared secret not supplied with -M" if whole else "snaplen too short"
        return f"md5 {why}, can't check - {data.hex()}"
    if kind == TCP_OPT_SCPS:
        return f"scps cap {data[0]:02x} id {data[1]}"
    if kind in _BYTEWISE:
        return _read(kind, name, ln, data, sack_base)
    if kind == TCP_OPT_MPTCP:
        text, ok = mptcp.mptcp(option, flags)
        if not ok:
            raise _Bad(text)
        return text
    if kind == TCP_OPT_TFO:
        return "tfo " + _fast_open(data)
    if kind == TCP_OPT_EXP2:
        if len(data) < 2:
            raise _Bad(name)
        magic = _H.unpack_from(data)[0]
        return f"exp-tfo{_fast_open(data[2:])}" if magic == _TFO_MAGIC else f"exp-{magic:04x}"
    return name + (f" 0x{data.hex()}" if data else "")


def _reads_data(kind: int, ln: int) -> bool:
    """Whether tcpdump reads the data of a SACK or TCP-AO option of length `ln`: not
    when the length makes it invalid, which it says without reading further."""
    return (ln - 2) % 8 == 0 if kind == TCP_OPT_SACK else ln - 2 >= 2


def _read(kind: int, name: str, ln: int, got: bytes, sack_base: int) -> str:
    """The text of an option tcpdump reads piece by piece, as far as `got` (its data,
    whole or as much as the capture holds) goes."""
    size = ln - 2
    if not _reads_data(kind, ln):
        return name + (" invalid sack" if kind == TCP_OPT_SACK else " (invalid)")
    if kind == TCP_OPT_SACK:
        edges = [_II.unpack_from(got, j) for j in range(0, len(got) - 7, 8)]
        return f"sack {size // 8} " + "".join(
            f"{{{(s - sack_base) & 0xFFFFFFFF}:{(e - sack_base) & 0xFFFFFFFF}}}"
            for s, e in edges)
    # TCP-AO (RFC 5925): key ids, then the MAC.
    text = name + (f" keyid {got[0]}" if got else "")
    text += f" rnextkeyid {got[1]}" if len(got) > 1 else ""
    return text + (f" mac 0x{got[2:].hex()}" if size > 2 and len(got) >= 2 else "")


def _fast_open(cookie: bytes) -> str:
    """TCP Fast Open's cookie (RFC 7413), or its request when there is none."""
    if not cookie:
        return " cookiereq"
    if len(cookie) % 2 or not 4 <= len(cookie) <= 16:
        return " (invalid)"
    return " cookie " + cookie.hex()
