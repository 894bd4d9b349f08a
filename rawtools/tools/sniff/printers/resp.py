"""RESP, Redis's protocol (TCP port 6379), as tcpdump prints it: every item quoted, one line.

tcpdump parses the segment item after item (clients pipeline commands):
simple strings, errors and integers up to CRLF, bulk strings by their
length, arrays item by item, and any other byte as the start of an inline
command. A bad length is named (`null`, `empty`, `invalid`...) and parsing
goes on after it; running out of segment or capture ends the line with
`[|resp]`.
"""

from __future__ import annotations

from rawtools.tools.sniff.printers.chars import printable

PORT = 6379
_CR, _LF, _MINUS = 0x0D, 0x0A, 0x2D
_SIMPLE, _ERROR, _INTEGER, _BULK, _ARRAY = b"+-:$*"
_INT_MAX = 2**31 - 1
# What resp_get_length answers besides a length, and what the callers print for each.
_NULL, _CUT_LENGTH, _TOO_LARGE, _NEGATIVE, _INVALID = -1, -2, -3, -4, -5
_LENGTH_WORDS = {_NULL: " null", _TOO_LARGE: " length too large",
                 _NEGATIVE: " length negative and not -1"}


class _Cut(Exception):
    """The segment or the capture ended before what was being read."""


def resp(p: bytes, length: int) -> tuple[str, bool]:
    """`RESP "SET" "key" "value"`; `RESP [|resp]` where it runs out."""
    parser = _Parser(p)
    at, left = 0, length
    try:
        while left > 0:
            used = parser.item(at, left)
            at, left = at + used, left - used
    except _Cut:
        return "RESP" + "".join(parser.out) + " [|resp]", False
    return "RESP" + "".join(parser.out), True


class _Parser:
    """tcpdump's RESP walk over `p`: each method takes where an item starts and how many
    bytes of the segment are left there, and answers how many it used."""

    def __init__(self, p: bytes) -> None:
        self.p = p
        self.out: list[str] = []

    def byte(self, at: int) -> int:
        if at >= len(self.p):
            raise _Cut
        return self.p[at]

    def item(self, at: int, left: int) -> int:
        if left < 1:
            raise _Cut
        op = self.byte(at)
        if op in (_SIMPLE, _ERROR, _INTEGER):
            return self.line(at, left)
        if op == _BULK:
            return self.bulk(at, left)
        if op == _ARRAY:
            return self.array(at, left)
        return self.inline(at, left)

    def segment(self, at: int, size: int) -> None:
        self.out.append(f' "{printable(self.p[at:at + size])}"')

    def find_crlf(self, at: int, left: int) -> tuple[int, int]:
        """Where the next CRLF starts, and the bytes left there."""
        while True:
            if left < 2:
                raise _Cut
            if at + 1 >= len(self.p):
                raise _Cut
            if self.p[at] == _CR and self.p[at + 1] == _LF:
                return at, left
            at, left = at + 1, left - 1

    def line(self, at: int, left: int) -> int:
        """`+OK`, `-ERR ...`, `:42`: the text after the type byte, up to CRLF."""
        end, _ = self.find_crlf(at + 1, left - 1)
        self.segment(at + 1, end - at - 1)
        return end - at + 2

    def bulk(self, at: int, left: int) -> int:
        size, start = self.length(at + 1, left - 1)
        cur = left - (start - at)
        if size < 0:
            self.bad_length(size)
            return left - cur
        if size == 0:
            self.out.append(" empty")
        else:
            if cur < size or start + size > len(self.p):
                raise _Cut
            self.segment(start, size)
            start, cur = start + size, cur - size
        _, cur = self.find_crlf(start, cur)
        return left - (cur - 2)

    def array(self, at: int, left: int) -> int:
        count, start = self.length(at + 1, left - 1)
        cur = left - (start - at)
        if count <= 0:
            if count == 0:
                self.out.append(" empty")
            else:
                self.bad_length(count)
            return left - cur
        for _ in range(count):
            used = self.item(start, cur)
            start, cur = start + used, cur - used
        return left - cur

    def bad_length(self, code: int) -> None:
        if code == _CUT_LENGTH:
            raise _Cut
        self.out.append(_LENGTH_WORDS.get(code, " invalid"))

    def inline(self, at: int, left: int) -> int:
        """A command typed at a terminal: a line ended by CR, LF or both."""
        start, cur = self.skip_line_ends(at, left)
        end = start
        while True:
            if cur < 1:
                raise _Cut
            if self.byte(end) in (_CR, _LF):
                break
            end, cur = end + 1, cur - 1
        self.segment(start, end - start)
        _, cur = self.skip_line_ends(end, cur)
        return left - cur

    def skip_line_ends(self, at: int, left: int) -> tuple[int, int]:
        """Past every CR and LF at `at`; the end of the data right away is a cut."""
        found = False
        while True:
            if left == 0 or at >= len(self.p):
                if found:
                    return at, left
                raise _Cut
            if self.p[at] not in (_CR, _LF):
                return at, left
            found = True
            at, left = at + 1, left - 1

    def length(self, at: int, left: int) -> tuple[int, int]:
        """(a bulk string's or an array's length or one of the codes, where reading
        stopped): tcpdump's resp_get_length, int overflow checks included."""
        if left == 0 or at >= len(self.p):
            return _CUT_LENGTH, at
        negative = self.p[at] == _MINUS
        if negative:
            at, left = at + 1, left - 1
        result, digits, too_large = 0, False, False
        while True:
            if left == 0 or at >= len(self.p):
                return _CUT_LENGTH, at
            c = self.p[at] - 0x30
            if not 0 <= c <= 9:
                if not digits:
                    return _INVALID, at + 1
                break
            if result > _INT_MAX // 10:
                too_large = True
            else:
                result *= 10
                if result == _INT_MAX // 10 * 10 and c > _INT_MAX % 10:
                    too_large = True
                else:
                    result += c
            at, left, digits = at + 1, left - 1, True
        if self.p[at] != _CR:
            return _INVALID, at + 1
        at, left = at + 1, left - 1
        if left == 0 or at >= len(self.p):
            return _CUT_LENGTH, at
        if self.p[at] != _LF:
            return _INVALID, at + 1
        if negative:
            return (_NEGATIVE if too_large or result != 1 else _NULL), at + 1
        return (_TOO_LARGE if too_large else result), at + 1
