"""BFD (RFC 5880/5881/5883, UDP ports 3784, 3785, 4784, 6784) as tcpdump prints it without -v.

tcpdump chooses BFD by the destination port alone, and names the session
kind by it too, so the printers here are made per port (`for_port`).
"""

from __future__ import annotations

from collections.abc import Callable

CONTROL, ECHO, MULTIHOP, LAG = 3784, 3785, 4784, 6784
PORTS = (CONTROL, MULTIHOP, LAG, ECHO)
_KINDS = {CONTROL: "Control", MULTIHOP: "Multihop", LAG: "Lag", ECHO: "Echo"}
_STATES = ("AdminDown", "Down", "Init", "Up")
_V0_FLAGS = ((0x80, "I Hear You"), (0x40, "Demand"), (0x20, "Poll"), (0x10, "Final"))
_V1_FLAGS = ((0x20, "Poll"), (0x10, "Final"), (0x08, "Control Plane Independent"),
             (0x04, "Authentication Present"), (0x02, "Demand"), (0x01, "Multipoint"))


def _flags(value: int, names: tuple[tuple[int, str], ...]) -> str:
    return ", ".join(name for bit, name in names if value & bit) or "none"


def for_port(port: int) -> Callable[[bytes, int], tuple[str, bool]]:
    """The printer of BFD packets sent to `port`."""

    def bfd(p: bytes, length: int) -> tuple[str, bool]:
        if port == ECHO:
            return f"BFD, Echo, length: {length}", True
        if len(p) < 2:
            return " [|bfd]", False
        version, flags = p[0] >> 5, p[1]
        if version == 0:
            return f"BFDv0, Control, Flags: [{_flags(flags, _V0_FLAGS)}], length: {length}", True
        if version == 1:
            return (f"BFDv1, {_KINDS[port]}, State {_STATES[flags >> 6]}, "
                    f"Flags: [{_flags(flags & 0x3F, _V1_FLAGS)}], length: {length}"), True
        return f"BFDv{version}, Control, length: {length}", True

    return bfd
