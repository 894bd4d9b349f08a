"""PTP (IEEE 1588, EtherType 0x88F7 and UDP ports 319/320) in tcpdump 4.99's words.

tcpdump prints the whole common header and the fields of each message type
on one line, so this does too, field by field in its order; where the
packet ends early the line stops there with `[|ptp]`. Its version is the
whole second byte, so a PTP 2.1 packet (minor version 1) is `PTPv18` there
and here, and version 1 is `(not implemented)`.
"""

from __future__ import annotations

_MSG_TYPES = {0x0: "sync msg", 0x1: "delay req msg", 0x2: "peer delay req msg",
              0x3: "peer delay resp msg", 0x8: "follow up msg", 0x9: "delay resp msg",
              0xA: "pdelay resp fup msg", 0xB: "announce msg", 0xC: "signalling msg",
              0xD: "management msg"}
_CONTROLS = ("Sync", "Delay_Req", "Follow_Up", "Delay_Resp", "Management", "Other")
_FLAGS = ((0x1, "l1 61"), (0x2, "l1 59"), (0x4, "utc reasonable"), (0x8, "timescale"),
          (0x10, "time tracable"), (0x20, "frequency tracable"), (0x100, "alternate master"),
          (0x200, "two step"), (0x400, "unicast"), (0x1000, "profile specific 1"),
          (0x2000, "profile specific 2"), (0x4000, "security mask"), (0x18C0, "unknown"))
_V1_COMPAT = 0x10
_HEADER_LEN = 34
_ORIGIN, _PRECISE, _RECEIVE = "originTimeStamp", "preciseOriginTimeStamp", "receiveTimeStamp"
# Message type -> what follows the header: a timestamp, a timestamp and a port
# identity, or (announce, signaling, management) their own fields.
_TIMESTAMP = {0x0: _ORIGIN, 0x1: _ORIGIN, 0x8: _PRECISE}
_TIMESTAMP_ID = {0x2: _PRECISE, 0x3: _RECEIVE, 0x9: _RECEIVE, 0xA: _PRECISE}


class _Cut(Exception):
    """The packet ended before the field being read."""


class _Reader:
    def __init__(self, p: bytes, o: int) -> None:
        self.p, self.o = p, o

    def uint(self, size: int, at: int | None = None) -> int:
        """The big-endian number of `size` bytes at `at` (default: the next ones)."""
        o = self.o if at is None else at
        if o + size > len(self.p):
            raise _Cut
        if at is None:
            self.o += size
        return int.from_bytes(self.p[o:o + size], "big")


def ptp(p: bytes, length: int) -> tuple[str, bool]:
    """`PTPv2, v1 compat : no, msg type : sync msg, length : 44, ...` as one line."""
    if length < _HEADER_LEN:
        return f" [length {length} < {_HEADER_LEN}] (invalid)", False
    if len(p) < 2:
        return " [|ptp]", False
    version = p[1]
    parts = [f"PTPv{version}"]
    if version == 1:
        return "PTPv1 (not implemented)", True
    if version != 2:
        return parts[0], True
    try:
        _header(_Reader(p, 0), parts)
    except _Cut:
        return "".join(parts) + " [|ptp]", False
    return "".join(parts), True


def _flags(value: int) -> str:
    return ", ".join(name for bit, name in _FLAGS if value & bit == bit) or "none"


def _header(r: _Reader, parts: list[str]) -> None:
    first = r.uint(1)
    msg_type = first & 0x0F
    parts.append(f", v1 compat : {'yes' if first & _V1_COMPAT else 'no'}, "
                 f"msg type : {_MSG_TYPES.get(msg_type, 'Reserved')}")
    r.o = 2
    parts.append(f", length : {r.uint(2)}")
    domain = r.uint(2)
    parts.append(f", domain : {domain >> 8}, reserved1 : {domain & 0xFF}")
    parts.append(f", Flags [{_flags(r.uint(2))}]")
    parts.append(f", NS correction : {r.uint(6)}")
    parts.append(f", sub NS correction : {r.uint(2)}")
    parts.append(f", reserved2 : {r.uint(4)}")
    parts.append(f", clock identity : 0x{r.uint(8):x}")
    parts.append(f", port id : {r.uint(2)}")
    parts.append(f", seq id : {r.uint(2)}")
    control = r.uint(1, r.o)
    name = _CONTROLS[control] if control < len(_CONTROLS) else "Reserved"
    parts.append(f", control : {control} ({name})")
    parts.append(f", log message interval : {r.uint(2) & 0xFF}")
    _body(r, msg_type, parts)


def _body(r: _Reader, msg_type: int, parts: list[str]) -> None:
    """The fields after the header, per message type, in tcpdump's order and words."""
    if msg_type in _TIMESTAMP or msg_type in _TIMESTAMP_ID:
        name = _TIMESTAMP.get(msg_type) or _TIMESTAMP_ID[msg_type]
        parts.append(f", {name} : {r.uint(6)} seconds,")
        parts.append(f" {r.uint(4)} nanoseconds")
        if msg_type in _TIMESTAMP_ID:
            _port(r, parts)
    elif msg_type == 0xB:
        parts.append(f", {_ORIGIN} : {r.uint(6)} seconds")
        parts.append(f" {r.uint(4)} nanoseconds")
        parts.append(f", origin cur utc :{r.uint(2)}")
        parts.append(f", rsvd : {r.uint(1)}")
        parts.append(f", gm priority_1 : {r.uint(1)}")
        parts.append(f", gm clock class : {r.uint(1)}")
        parts.append(f", gm clock accuracy : {r.uint(1)}")
        parts.append(f", gm clock variance : {r.uint(2)}")
        parts.append(f", gm priority_2 : {r.uint(1)}")
        parts.append(f", gm clock id : 0x{r.uint(8):x}")
        parts.append(f", steps removed : {r.uint(2)}")
        parts.append(f", time source : 0x{r.uint(1):x}")
    elif msg_type == 0xC:
        _port(r, parts)
    elif msg_type == 0xD:
        # tcpdump reads these four from where the port identity starts (its
        # helpers advance their own copy of the pointer), and so does this.
        at = r.o
        _port(r, parts)
        value = r.uint(1, at)
        parts.append(f", , start boundary hops  {value}, , boundary hops  {value}"
                     f", , flags  0x{value:x}, , reserved  0x{value:x}")


def _port(r: _Reader, parts: list[str]) -> None:
    parts.append(f", port identity : 0x{r.uint(8):x}")
    parts.append(f", port id : {r.uint(2)}")
