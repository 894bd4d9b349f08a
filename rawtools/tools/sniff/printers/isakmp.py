"""ISAKMP/IKE (UDP 500, RFC 2408/7296) and its NAT-traversal port (UDP 4500, RFC 3948).

Without -v tcpdump prints only the fixed header of the message: the
version decides between IKEv1's `phase 1 I ident` (phase by the message id,
then who sent it, then the exchange type and the E/C flags) and IKEv2's
`parent_sa ikev2_init[I]` (the I/V/R flags); the payloads are read from -v
on. On port 4500 four zero bytes (the non-ESP marker) announce IKE, a
single 0xff byte is a NAT keep-alive, and anything else is ESP.

IKEv1's "I" or "R" comes from tcpdump's table of the initiator cookies it
has seen, which it fills from each exchange's first message (the one with
a zero responder cookie); a printer here keeps no state, so the first
message is "I" and the later ones "?", as tcpdump prints a message whose
exchange started before the capture did (and one whose initiator cookie
is zero, which matches an empty slot of that table).
"""

from __future__ import annotations

import struct

HEADER_LEN = 28  # two cookies, next payload, version, exchange type, flags, message id, length
_MSGID = struct.Struct("!I")
_I_COOKIE, _R_COOKIE = slice(0, 8), slice(8, 16)
# Exchange types by number (IKEv1 0-5 and 32-33, IKEv2 34-37); others print as #N.
_EXCHANGES = {0: "none", 1: "base", 2: "ident", 3: "auth", 4: "agg", 5: "inf",
              32: "oakley-quick", 33: "oakley-newgroup", 34: "ikev2_init", 35: "ikev2_auth",
              36: "child_sa", 37: "inf2"}
# Header flags: IKEv1's encryption and commit, IKEv2's initiator, version and response.
_FLAG_E, _FLAG_C, _FLAG_I, _FLAG_V, _FLAG_R = 0x01, 0x02, 0x08, 0x10, 0x20
_IKEV1, _IKEV2 = 1, 2
_NON_ESP = b"\0\0\0\0"
_ESP_HEADER = 8
_ESP = struct.Struct("!II")


def isakmp(p: bytes, length: int) -> tuple[str, bool]:
    """The header of an ISAKMP message (`p`: the UDP payload)."""
    if len(p) < HEADER_LEN:
        return " [|isakmp]", False
    major = p[17] >> 4
    exchange, flags = p[18], p[19]
    first = _MSGID.unpack_from(p, 20)[0] == 0
    name = _EXCHANGES.get(exchange, f"#{exchange}")
    if major == _IKEV1:
        # An all-zero initiator cookie matches an empty slot of tcpdump's table: "?".
        who = " I" if any(p[_I_COOKIE]) and not any(p[_R_COOKIE]) else " ?"
        marks = (f"[{'E' if flags & _FLAG_E else ''}{'C' if flags & _FLAG_C else ''}]"
                 if flags else "")
        phase = " phase 1" if first else " phase 2/others"
        return f"isakmp:{phase}{who} {name}{marks}", True
    if major == _IKEV2:
        marks = (f"[{'I' if flags & _FLAG_I else ''}{'V' if flags & _FLAG_V else ''}"
                 f"{'R' if flags & _FLAG_R else ''}]" if flags else "")
        sa = " parent_sa" if first else " child_sa "
        return f"isakmp:{sa} {name}{marks}", True
    return "isakmp:", True


def rfc3948(p: bytes, length: int) -> tuple[str, bool]:
    """UDP port 4500: a NAT keep-alive, IKE after the non-ESP marker, or ESP."""
    if not p:
        return " [|isakmp_rfc3948]", False
    if length == 1 and p[0] == 0xFF:
        return "isakmp-nat-keep-alive", True
    if length < len(_NON_ESP):
        return " [|isakmp_rfc3948]", False
    if len(p) < len(_NON_ESP):
        return " [|isakmp_rfc3948]", False
    if p[:4] == _NON_ESP:
        text, ok = isakmp(p[4:], length - 4)
        return "NONESP-encap: " + text, ok
    if len(p) <= _ESP_HEADER:
        return "UDP-encap:  [|esp]", False
    spi, seq = _ESP.unpack_from(p)
    return f"UDP-encap: ESP(spi=0x{spi:08x},seq=0x{seq:x}), length {length}", True
