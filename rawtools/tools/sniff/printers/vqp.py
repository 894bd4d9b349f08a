"""VQP (UDP port 1589, Cisco's VLAN Query Protocol): tcpdump's line without -v.

The 8-byte header is read whole before anything is printed: cut inside it,
the line is only `[|vqp]`; a datagram shorter than it is `(invalid)`.
"""

from __future__ import annotations

PORT = 1589
_HEADER_LEN = 8
_VERSION = 1
_TYPES = {1: "Request, Join Port", 2: "Response, VLAN", 3: "Request, Reconfirm",
          4: "Response, Reconfirm"}
_ERRORS = {0: "No error", 3: "Access denied", 4: "Shutdown port", 5: "Wrong VTP domain"}


def vqp(p: bytes, length: int) -> tuple[str, bool]:
    """`VQPv1 Request, Join Port Message, error-code No error (0), length 18`."""
    if len(p) < _HEADER_LEN:
        return " [|vqp]", False
    if length < _HEADER_LEN:
        return " (invalid)", False
    version, kind, error = p[0], p[1], p[2]
    if version != _VERSION:
        return f"VQP version {version} packet not supported", True
    return (f"VQPv{version} {_TYPES.get(kind, f'unknown ({kind})')} Message, "
            f"error-code {_ERRORS.get(error, 'unknown')} ({error}), length {length}"), True
