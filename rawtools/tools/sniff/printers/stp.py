"""Spanning tree BPDUs (802.1D, 802.1w RSTP) as tcpdump prints them without -v."""

from __future__ import annotations

_VERSIONS = {0: "802.1d", 2: "802.1w", 3: "802.1s", 4: "802.1aq"}
_CONFIG, _RSTP, _TOPOLOGY_CHANGE = 0x00, 0x02, 0x80
_TYPES = {_CONFIG: "Config", _RSTP: "Rapid STP", _TOPOLOGY_CHANGE: "Topology Change"}
_FLAGS = ((0x01, "Topology change"), (0x02, "Proposal"), (0x10, "Learn"), (0x20, "Forward"),
          (0x40, "Agreement"), (0x80, "Topology change ACK"))
_CONFIG_LEN = 35  # a configuration BPDU; RSTP's adds the version 1 length byte
_MSTI_OFFSET = 102  # the BPDU, the MST configuration and the CIST fields
_TRUNCATED = " [|stp]"


def stp(p: bytes, length: int) -> tuple[str, bool]:
    """`STP 802.1w, Rapid STP, Flags [Proposal], bridge-id 8001.00:19:06:ea:b8:80.800c,
    length 36` (one line)."""
    if length < 4:
        return " (invalid)", False
    if len(p) < 2:
        return _TRUNCATED, False
    if p[0] or p[1]:
        return f"unknown STP version, length {length}", True
    if len(p) < 3:
        return _TRUNCATED, False
    version = p[2]
    text = f"STP {_VERSIONS.get(version, f'Unknown STP protocol (0x{version:02x})')}"
    if version not in _VERSIONS:
        return text, True
    if len(p) < 4:
        return text + _TRUNCATED, False
    kind = p[3]
    text += f", {_TYPES.get(kind, f'Unknown BPDU Type (0x{kind:02x})')}"
    if kind == _CONFIG or (kind == _RSTP and version == 2):
        if length < _CONFIG_LEN + (kind == _RSTP):
            return text + " (invalid)", False
        return _config(p, length, text)
    if kind == _RSTP and length < _MSTI_OFFSET:
        return text + " (invalid)", False  # an MSTP or SPB BPDU without its MST part
    return text, True


def _config(p: bytes, length: int, text: str) -> tuple[str, bool]:
    if len(p) < 5:
        return text + _TRUNCATED, False
    flags = ", ".join(name for bit, name in _FLAGS if p[4] & bit) or "none"
    text += f", Flags [{flags}]"
    if len(p) < 27:
        return text + _TRUNCATED, False
    bridge = f"{p[17]:02x}{p[18]:02x}.{p[19:25].hex(':')}"
    return f"{text}, bridge-id {bridge}.{p[25]:02x}{p[26]:02x}, length {length}", True
