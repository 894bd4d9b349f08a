"""TFTP (UDP port 69, RFC 1350 and the option extension of RFC 2347) as tcpdump prints it.

Only a transfer's first messages reach port 69: the server answers from a
port of its own, so the data and acks that follow are plain UDP to any
sniffer (tcpdump included). Each string runs to its NUL; one that does not
end within the message or the capture is shown as far as it goes and the
line marked `[|tftp]`, where tcpdump marks it.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers.chars import printable

_RRQ, _WRQ, _DATA, _ACK, _ERROR, _OACK = 1, 2, 3, 4, 5, 6
_OPS = {_RRQ: "RRQ", _WRQ: "WRQ", _DATA: "DATA", _ACK: "ACK", _ERROR: "ERROR", _OACK: "OACK"}
_ERRORS = ("EUNDEF", "ENOTFOUND", "EACCESS", "ENOSPACE", "EBADOP", "EBADID", "EEXISTS",
           "ENOUSER")
_TRUNCATED = " [|tftp]"


class _Cut(Exception):
    """The message or the capture ended before the field being read."""


class _Reader:
    """The message after its opcode: `left` bytes by its length, `body` as captured."""

    def __init__(self, body: bytes, left: int) -> None:
        self.body, self.at, self.left = body, 0, left
        self.shown = ""  # what a cut string showed before its end

    def string(self) -> str:
        """The NUL-terminated string here; `_Cut` (after `shown`) if it does not end."""
        body, at = self.body, self.at
        limit = min(len(body), at + self.left)
        end = body.find(b"\0", at, limit)
        if end < 0:
            self.shown = printable(body[at:limit])
            raise _Cut
        self.at, self.left = end + 1, self.left - (end + 1 - at)
        return printable(body[at:end])

    def u16(self) -> int:
        if self.left < 2 or len(self.body) < self.at + 2:
            raise _Cut
        value = self.body[self.at] << 8 | self.body[self.at + 1]
        self.at, self.left = self.at + 2, self.left - 2
        return value


def tftp(p: bytes, length: int) -> tuple[str, bool]:
    """`TFTP, length 17, RRQ "boot.img" octet`, `ERROR ENOTFOUND "no such file"`..."""
    out = [f"TFTP, length {length}"]
    try:
        if length < 2 or len(p) < 2:
            raise _Cut
        opcode = p[0] << 8 | p[1]
        name = _OPS.get(opcode)
        if name is None:
            return f"{out[0]}, tftp-#{opcode}", True
        out.append(", " + name)
        _body(_Reader(p[2:], length - 2), opcode, out)
    except _Cut:
        out.append(_TRUNCATED)
        return "".join(out), False
    return "".join(out), True


def _body(r: _Reader, opcode: int, out: list[str]) -> None:
    if opcode in (_DATA, _ACK):
        out.append(f" block {r.u16()}")
    elif opcode == _ERROR:
        code = r.u16()
        out.append(f" {_ERRORS[code]}" if code < len(_ERRORS) else f' tftp-err-#{code} "')
        _quoted(r, out)
    elif opcode == _OACK:
        _options(r, out)
    else:  # a read or write request: file name, mode, options
        _quoted(r, out)
        if r.left == 0:
            raise _Cut  # no mode
        try:
            out.append(" " + r.string())
        except _Cut:
            out.append(" " + r.shown)
            raise
        _options(r, out)


def _quoted(r: _Reader, out: list[str]) -> None:
    """A string in quotes (a file name, an error message), closed even when cut."""
    if r.left == 0:
        raise _Cut
    try:
        out.append(f' "{r.string()}"')
    except _Cut:
        out.append(f' "{r.shown}"')
        raise


def _options(r: _Reader, out: list[str]) -> None:
    """Option names and values, each after a space (an empty one shows nothing)."""
    while r.left:
        if r.at >= len(r.body):
            raise _Cut
        space = " " if r.body[r.at] else ""
        try:
            out.append(space + r.string())
        except _Cut:
            out.append(space + r.shown)
            raise
