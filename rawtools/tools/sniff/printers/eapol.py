"""802.1X EAPOL (EtherType 0x888E): the packet type, protocol version and body length.

That is all tcpdump prints of it without -v; the EAP exchange inside is
shown only from -v on.
"""

from __future__ import annotations

_TYPES = ("EAP packet", "EAPOL start", "EAPOL logoff", "EAPOL key", "Encapsulated ASF alert")


def eapol(p: bytes, length: int) -> tuple[str, bool]:
    if len(p) < 4:
        return " [|eap]", False
    version, kind = p[0], p[1]
    name = _TYPES[kind] if kind < len(_TYPES) else "unknown"
    return f"{name} ({kind}) v{version}, len {p[2] << 8 | p[3]}", True
