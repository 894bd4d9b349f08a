"""TCP options as tcpdump lists them: `options [mss 1460,sackOK,TS val 1 ecr 0]`.

Options are only read when present (most segments after the handshake carry
just timestamps), so this is plain code rather than the fixed-offset tricks
of the hot path; a length that runs past the header ends the list with
`[bad opt]` instead of guessing.
"""

from __future__ import annotations

import struct

_H = struct.Struct("!H")
_II = struct.Struct("!II")
_NOP_NOP_TS = b"\x01\x01\x08\x0a"


def options(opts: bytes, sack_base: int) -> tuple[str, bool]:
    """(`", options [...]"`, whether every option was well formed).

    `sack_base` is subtracted from SACK edges so they read like the relative
    ack numbers beside them (0 when printing absolute numbers).
    """
    if len(opts) == 12 and opts[:4] == _NOP_NOP_TS:
        # What nearly every segment after the handshake carries.
        val, ecr = _II.unpack_from(opts, 4)
        return f", options [nop,nop,TS val {val} ecr {ecr}]", True
    out = []
    i, n = 0, len(opts)
    ok = True
    while i < n:
        kind = opts[i]
        if kind == 0:
            out.append("eol")
            break
        if kind == 1:
            out.append("nop")
            i += 1
            continue
        if i + 1 >= n or opts[i + 1] < 2 or i + opts[i + 1] > n:
            out.append("[bad opt]")
            ok = False
            break
        ln = opts[i + 1]
        data = opts[i + 2:i + ln]
        if kind == 2 and ln == 4:
            out.append(f"mss {_H.unpack(data)[0]}")
        elif kind == 3 and ln == 3:
            out.append(f"wscale {data[0]}")
        elif kind == 4 and ln == 2:
            out.append("sackOK")
        elif kind == 5 and (ln - 2) % 8 == 0:
            edges = [_II.unpack_from(data, j) for j in range(0, ln - 2, 8)]
            blocks = "".join(f"{{{(s - sack_base) & 0xFFFFFFFF}:{(e - sack_base) & 0xFFFFFFFF}}}"
                             for s, e in edges)
            out.append(f"sack {len(edges)} {blocks}")
        elif kind == 8 and ln == 10:
            val, ecr = _II.unpack(data)
            out.append(f"TS val {val} ecr {ecr}")
        elif kind == 19 and ln == 18:
            out.append("md5 shared secret not supplied with -M, can't check - " + data.hex())
        elif kind == 28 and ln == 4:
            out.append(f"uto {_H.unpack(data)[0]}")
        elif kind == 30:
            out.append(f"mptcp {ln}")
        elif kind in (253, 254) and ln >= 4:
            out.append(f"exp-{data[:2].hex()}")
        elif kind == 34:
            out.append("tfo cookie " + data.hex() if data else "tfo cookiereq")
        else:
            out.append(f"unknown-{kind} 0x{data.hex()}" if data else f"unknown-{kind}")
        i += ln
    return ", options [" + ",".join(out) + "]", ok
