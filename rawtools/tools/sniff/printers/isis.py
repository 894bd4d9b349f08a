"""IS-IS PDUs (ISO 10589, over LLC) as tcpdump prints them without -v: type, ids, length."""

from __future__ import annotations

_PDU_NAMES = {15: "L1 Lan IIH", 16: "L2 Lan IIH", 17: "p2p IIH", 18: "L1 LSP", 20: "L2 LSP",
              24: "L1 CSNP", 25: "L2 CSNP", 26: "L1 PSNP", 27: "L2 PSNP"}
_COMMON = 8
# PDU type -> (its fixed header after the common one, the id fields tcpdump shows:
# (name, offset from the start of the PDU, id length)).
_LAN_IIH = (19, ((", src-id ", 9, 6), (", lan-id ", 20, 7)))
_HEADERS = {15: _LAN_IIH, 16: _LAN_IIH, 17: (12, ((", src-id ", 9, 6),)),
            18: (19, ((", lsp-id ", 12, 8),)), 20: (19, ((", lsp-id ", 12, 8),)),
            24: (25, ((", src-id ", 10, 7),)), 25: (25, ((", src-id ", 10, 7),)),
            26: (9, ((", src-id ", 10, 7),)), 27: (9, ((", src-id ", 10, 7),))}
_TRUNCATED = " [|isis]"


def system_id(raw: bytes) -> str:
    """`3333.3333.3333`, with `.00` for a node id (7 bytes) and `-00` for an LSP id (8)."""
    text = f"{raw[0:2].hex()}.{raw[2:4].hex()}.{raw[4:6].hex()}"
    if len(raw) >= 7:
        text += f".{raw[6]:02x}"
    if len(raw) == 8:
        text += f"-{raw[7]:02x}"
    return text


def isis(p: bytes, length: int) -> tuple[str, bool]:
    """`IS-IS, L1 CSNP, src-id 3333.3333.3333.00, length 83`; `p` starts at the NLPID."""
    if len(p) < _COMMON or length < _COMMON:
        return _TRUNCATED, False
    fixed_len, version, id_len, pdu_type, pdu_version, max_area = p[1], p[2], p[3], p[4], \
        p[5], p[7]
    error = _header_error(version, id_len, pdu_version, fixed_len, max_area, length)
    if error:
        return "IS-IS" + error, False
    text = f"IS-IS, {_PDU_NAMES.get(pdu_type, f'unknown PDU-Type {pdu_type}')}"
    header = _HEADERS.get(pdu_type)
    if header is None:
        return f"{text}, length {length}", True
    size, ids = header
    if fixed_len != _COMMON + size:
        dash = "-" if pdu_type in (26, 27) else ","
        return f"{text}{dash} bogus fixed header length {fixed_len} should be " \
            f"{size if pdu_type in (18, 20) else _COMMON + size}", False
    if len(p) < _COMMON + size:
        return text + _TRUNCATED, False
    if length < _COMMON + size:
        return text + _TRUNCATED, False
    for name, at, n in ids:
        text += name + system_id(p[at:at + n])
    if pdu_type in (15, 16):
        text += f", prio {p[19]}"
    elif pdu_type in (18, 20):
        seq = int.from_bytes(p[20:24], "big")
        text += f", seq 0x{seq:08x}, lifetime {int.from_bytes(p[10:12], 'big'):5d}s"
    return f"{text}, length {length}", True


def _header_error(version: int, id_len: int, pdu_version: int, fixed_len: int, max_area: int,
                  length: int) -> str:
    """What tcpdump says (right after `IS-IS`) of a common header it will not decode."""
    if version != 1:
        return f"version {version} packet not supported"
    if id_len not in (6, 0):
        return f"system ID length of {id_len} is not supported"
    if pdu_version != 1:
        return f"version {pdu_version} packet not supported"
    if length < fixed_len:
        return f"fixed header length {fixed_len} > packet length {length}"
    if fixed_len < _COMMON:
        return f"fixed header length {fixed_len} < minimum header size {_COMMON}"
    if max_area == 255:
        return "bad packet -- 255 areas"
    return ""
