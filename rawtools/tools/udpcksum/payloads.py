"""What udpcksum asks the server: a DNS query, an NTP client request, or bytes given in hex.

The question only has to make the server answer; what matters is the UDP
header of the answer. The payloads are fixed for given options (no random
identifiers), so a replay rebuilds the very bytes that were recorded and can
tell when it is given other options than the recorded run had.
"""

from __future__ import annotations

import re
import string
from typing import Literal

from rawtools.errors import UsageError
from rawtools.wire.udp import MAX_PAYLOAD

PayloadKind = Literal["dns", "ntp", "hex"]
DEFAULT_QUERY = "a.root-servers.net"
"""UNP's udpcksum asks for this name's A record."""
DNS_ID = 1234
"""UNP's transaction identifier: the ports already tell our answer from others."""
NTP_PORT = 123
NTP_TRANSMIT = b"rawtools"
"""The client's transmit timestamp: any non-zero nonce, which the server
echoes as its origin timestamp; readable in a capture."""

_LABEL = re.compile(r"[A-Za-z0-9_*-]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_-])?")
_HEX_SEPARATORS = str.maketrans("", "", " :-")


def check_query(name: object) -> str:
    """A DNS name to ask for: letters, digits, '-' and '_' labels of up to 63, 253 in all."""
    if not isinstance(name, str) or not name:
        raise UsageError(f"invalid query name (-q): {name!r}")
    bare = name[:-1] if name.endswith(".") and name != "." else name
    if bare == ".":
        return bare
    labels = bare.split(".")
    if len(bare) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UsageError(f"invalid query name (-q): {name!r} (labels of 1 to 63 letters, "
                         "digits, '-' or '_', at most 253 characters)")
    return bare


def dns_query(name: str) -> bytes:
    """A recursive query for `name`'s A record (dpkt builds it)."""
    import dpkt

    q = dpkt.dns.DNS(id=DNS_ID, op=dpkt.dns.DNS_RD,
                     qd=[dpkt.dns.DNS.Q(name="" if name == "." else name,
                                        type=dpkt.dns.DNS_A, cls=dpkt.dns.DNS_IN)])
    return bytes(q)


def ntp_request() -> bytes:
    """An SNTP client request (RFC 4330): version 4, mode 3, a non-zero transmit time.

    dpkt has no NTP builder worth the import for one constant byte and a
    nonce, so the 48 bytes are spelled out.
    """
    return bytes([0x23]) + bytes(39) + NTP_TRANSMIT


def parse_hex(text: object) -> bytes:
    """--payload: hex digits, optionally separated by spaces, ':' or '-'."""
    if isinstance(text, bytes):
        data = text
    elif isinstance(text, str):
        digits = text.translate(_HEX_SEPARATORS)
        if not digits or len(digits) % 2 or not set(digits) <= set(string.hexdigits):
            raise UsageError(f"--payload {text!r}: an even number of hex digits is needed")
        data = bytes.fromhex(digits)
    else:
        raise UsageError(f"invalid payload: {text!r} (hex digits)")
    if len(data) > MAX_PAYLOAD:
        raise UsageError(f"--payload: {len(data)} bytes, at most {MAX_PAYLOAD} fit a datagram")
    return data


def describe(kind: PayloadKind, query: str | None, size: int) -> str:
    """The payload as the first output line names it."""
    if kind == "dns":
        return f"DNS query for {query}"
    if kind == "ntp":
        return "NTP client request"
    return f"{size} bytes of payload"
