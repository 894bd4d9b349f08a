"""sFlow (UDP port 6343) version 5 datagrams as tcpdump prints them without -v."""

from __future__ import annotations

import socket

_V4_HEADER, _V6_HEADER = 28, 40
_AGENT_V4 = 1


def sflow(p: bytes, length: int) -> tuple[str, bool]:
    """`sFlowv5, IPv4 agent 198.18.0.1, agent-id 0, length 216`."""
    if len(p) < 8:
        return " [|sflow]", False
    version = int.from_bytes(p[0:4], "big")
    agent_v4 = int.from_bytes(p[4:8], "big") == _AGENT_V4
    if length < (_V4_HEADER if agent_v4 else _V6_HEADER) \
            and int.from_bytes(p[4:8], "big") in (1, 2):
        return f"sFlowv{version} [length {length} < {_V4_HEADER}] (invalid)", False
    if len(p) < _V4_HEADER:
        return " [|sflow]", False
    if version != 5:
        return f"sFlow version {version} packet not supported", True
    if not agent_v4 and len(p) < _V6_HEADER:
        return f"sFlowv{version} [|sflow]", False
    end = 12 if agent_v4 else 24
    family = socket.AF_INET if agent_v4 else socket.AF_INET6
    agent = socket.inet_ntop(family, p[8:end])
    agent_id = int.from_bytes(p[end:end + 4], "big")
    return (f"sFlowv{version}, {'IPv4' if agent_v4 else 'IPv6'} agent {agent}, "
            f"agent-id {agent_id}, length {length}"), True
