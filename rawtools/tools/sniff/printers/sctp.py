"""SCTP (IP protocol 132): the ports, then each chunk as tcpdump's one line shows it.

tcpdump numbers the chunks and gives DATA its flags, TSN, stream, stream
sequence and payload protocol, INIT and INIT ACK their parameters and SACK
its counts; the other chunks are named. ForCES (by port or payload protocol
id) is named after `sctp`, and its message is read only at -v, so a DATA
chunk too short for a ForCES header gets `[|forces]`. A chunk whose length
is impossible ends the line with tcpdump's note.
"""

from __future__ import annotations

import struct

_COMMON = struct.Struct("!HH")  # the ports; the tag and checksum follow
_COMMON_LEN = 12
_CHUNK = struct.Struct("!BBH")
_DATA = struct.Struct("!IHHI")
_INIT = struct.Struct("!IIHHI")
_SACK = struct.Struct("!IIHH")
_DATA_CHUNK, _INIT_CHUNK, _INIT_ACK, _SACK_CHUNK = 0, 1, 2, 3
_CHUNK_NAMES = {
    0: "DATA", 1: "INIT", 2: "INIT ACK", 3: "SACK", 4: "HB REQ", 5: "HB ACK", 6: "ABORT",
    7: "SHUTDOWN", 8: "SHUTDOWN ACK", 9: "OP ERR", 10: "COOKIE ECHO", 11: "COOKIE ACK",
    12: "ECN ECHO", 13: "ECN CWR", 14: "SHUTDOWN COMPLETE", 192: "FOR CUM TSN",
    193: "REL CTRL"}
_PPIDS = {
    1: "ISDN Q.921", 2: "M2UA", 3: "M3UA", 4: "SUA", 5: "M2PA", 6: "V5.2", 7: "H.248",
    8: "BICC", 9: "TALI", 10: "DUA", 11: "ASAP", 12: "ENRP", 13: "H.323", 14: "Q.IPC",
    15: "SIMCO", 16: "DDPSC", 17: "DDPSSC", 18: "S1AP", 19: "RUA", 20: "HNBAP",
    21: "ForCES HP", 22: "ForCES MP", 23: "ForCES LP", 24: "SBc-AP", 25: "NBAP", 27: "X2AP"}
# ForCES' ports and payload protocol ids, by priority.
_FORCES_PORTS = {6704: "ForCES HP", 6705: "ForCES MP", 6706: "ForCES LP"}
_FORCES_PPIDS = frozenset({21, 22, 23})
_FORCES_HEADER = 24


def _marks(flags: int) -> str:
    """DATA's flags as tcpdump marks them: unordered, beginning, end; and a space."""
    marks = ("(U)" if flags & 4 else "") + ("(B)" if flags & 2 else "") + \
        ("(E)" if flags & 1 else "")
    return marks + " " if marks else ""


def _data(c: bytes, flags: int, forces: bool) -> str:
    tsn, sid, sseq, ppid = _DATA.unpack_from(c, 4)
    name = _PPIDS.get(ppid, f"0x{ppid:x}")
    text = f" [DATA] {_marks(flags)}[TSN: {tsn}] [SID: {sid}] [SSEQ {sseq}] " \
        f"[PPID {name}] "
    if (forces or ppid in _FORCES_PPIDS) and len(c) - 16 < _FORCES_HEADER:
        text += " [|forces]"
    return text


def _chunk(c: bytes, kind: int, flags: int, forces: bool) -> str | None:
    """The text of a whole chunk `c`; None if it is too short for its fixed fields."""
    if kind == _DATA_CHUNK:
        return _data(c, flags, forces) if len(c) >= 16 else None
    if kind in (_INIT_CHUNK, _INIT_ACK):
        if len(c) < 20:
            return None
        tag, rwnd, outs, ins, tsn = _INIT.unpack_from(c, 4)
        return (f" [{_CHUNK_NAMES[kind]}] [init tag: {tag}] [rwnd: {rwnd}] [OS: {outs}] "
                f"[MIS: {ins}] [init TSN: {tsn}] ")
    if kind == _SACK_CHUNK:
        if len(c) < 16:
            return None
        cum, rwnd, gaps, dups = _SACK.unpack_from(c, 4)
        return f" [SACK] [cum ack {cum}] [a_rwnd {rwnd}] [#gap acks {gaps}] [#dup tsns {dups}] "
    name = _CHUNK_NAMES.get(kind)
    return f" [{name}] " if name else f" [Unknown chunk type: 0x{kind:x}] "


def sctp(p: bytes, length: int, src: str, dst: str) -> tuple[str, bool]:
    """The line from the hosts on: `src.port > dst.port: sctp` and the chunks.

    `length` is the datagram's by the IP header, `p` what of it was captured:
    past the capture the line ends with `[|sctp]` after the last whole chunk.
    """
    if length < _COMMON_LEN:
        return f"truncated-sctp - {_COMMON_LEN - length} bytes missing!", False
    if len(p) < _COMMON_LEN:
        return " [|sctp]", False
    sport, dport = _COMMON.unpack_from(p)
    forces = _FORCES_PORTS.get(sport) or _FORCES_PORTS.get(dport)
    out = [f"{src}.{sport} > {dst}.{dport}: sctp" + (f"[{forces}]" if forces else "")]
    i, n = _COMMON_LEN, 0
    while i < length:
        n += 1
        label = f", ({n})" if n > 1 else f" ({n})"
        if length - i < 4:
            out.append(label + " [chunk descriptor cut off at end of packet]")
            return "".join(out), False
        if len(p) - i < 4:
            break
        kind, flags, clen = _CHUNK.unpack_from(p, i)
        if clen < 4:
            out.append(f"{label} [Bad chunk length {clen}, < size of chunk descriptor]")
            return "".join(out), False
        if i + clen > len(p):
            break
        text = _chunk(p[i:i + clen], kind, flags, forces is not None)
        if text is None:
            marks = _marks(flags) if kind == _DATA_CHUNK else ""
            out.append(f"{label} [{_CHUNK_NAMES[kind]}] {marks}bogus chunk length {clen}]")
            return "".join(out), False
        out.append(label + text)
        i += (clen + 3) & ~3
    else:
        return "".join(out), True
    return "".join(out) + " [|sctp]", False
