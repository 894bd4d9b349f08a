"""Text protocols (HTTP, RTSP) as tcpdump names them: the protocol and first line.

tcpdump prints `: HTTP` after a TCP segment's length on the protocol's
ports, and the first line of the payload when it looks like a request (a
known command) or a response (a three-digit code); binary data or a line
cut by the segment's end prints only the name or the `[|http]` mark. This is
its `txtproto_print` rule, so that the same segments get the same words.
"""

from __future__ import annotations

import re

# The request names tcpdump knows per protocol (HTTP's include WebDAV's);
# None: every payload is taken to be a line of text (FTP, SMTP).
HTTP_COMMANDS = frozenset((
    b"GET", b"PUT", b"COPY", b"HEAD", b"LOCK", b"MOVE", b"POLL", b"POST", b"BCOPY", b"BMOVE",
    b"MKCOL", b"TRACE", b"LABEL", b"MERGE", b"DELETE", b"SEARCH", b"UNLOCK", b"REPORT",
    b"UPDATE", b"NOTIFY", b"BDELETE", b"CONNECT", b"OPTIONS", b"CHECKIN", b"PROPFIND",
    b"CHECKOUT", b"CCM_POST", b"SUBSCRIBE", b"PROPPATCH", b"BPROPFIND", b"BPROPPATCH",
    b"UNCHECKOUT", b"MKACTIVITY", b"MKWORKSPACE", b"UNSUBSCRIBE", b"RPC_CONNECT",
    b"VERSION-CONTROL", b"BASELINE-CONTROL"))
RTSP_COMMANDS = frozenset((
    b"DESCRIBE", b"ANNOUNCE", b"GET_PARAMETER", b"OPTIONS", b"PAUSE", b"PLAY", b"RECORD",
    b"REDIRECT", b"SETUP", b"SET_PARAMETER", b"TEARDOWN"))
_MAX_TOKEN = 128  # tcpdump's token buffer, its terminating NUL included
# A token: printable ASCII but the space (one regex match, not a loop per byte).
_TOKEN = re.compile(rb"[!-~]+")
_BLANKS = b" \t\r\n"
_CR, _LF, _SPACE = 0x0D, 0x0A, 0x20
# What ends a line of text: anything but printable ASCII and the tab.
_NOT_TEXT = re.compile(rb"[^\t\x20-\x7e]")


def _printable(c: int) -> bool:
    return 0x20 <= c <= 0x7E


def _token(p: bytes, i: int, length: int) -> tuple[int, bytes]:
    """(offset after the token and the blanks after it, the token); (0, b"") if none.

    A token is printable ASCII up to a blank; anything else (binary data, the
    end of the capture before the token ends, a token too long for tcpdump's
    buffer) means there is none.
    """
    limit = min(length, len(p))
    m = _TOKEN.match(p, i, limit)
    if m is None:
        return 0, b""
    e = m.end()
    if e - i > _MAX_TOKEN or (e < length and (e == limit or p[e] not in _BLANKS)):
        return 0, b""
    while e < limit and p[e] == _SPACE:
        e += 1
    return e, m.group()


def _first_line(p: bytes, length: int, name: str) -> tuple[str, bool]:
    """`: LINE` for the first line when it is printable text, as tcpdump shows it.

    A line running to the end of the segment is shown with `[|name]`; one
    running past the capture shows only the mark; binary shows nothing.
    """
    end = min(length, len(p))
    m = _NOT_TEXT.search(p, 0, end)
    if m is None:
        if end < length:
            return f" [|{name}]", False
        return f": {p[:end].decode('ascii')} [|{name}]", True
    i = m.start()
    c = p[i]
    if c == _LF:
        return ": " + p[:i].decode("ascii"), True
    if c != _CR or i + 1 >= length:
        return "", True
    if i + 1 >= len(p):
        return f" [|{name}]", False
    return (": " + p[:i].decode("ascii"), True) if p[i + 1] == _LF else ("", True)


def txtproto(p: bytes, length: int, name: str, commands: frozenset[bytes] | None) -> tuple[str,
                                                                                        bool]:
    """`NAME` and, for a request or response, `: ` and its first line.

    `commands` None: every payload is a line (FTP, SMTP); otherwise the first
    token must be one of them, or the second a three-digit response code.
    """
    show = commands is None
    if commands is not None:
        i, token = _token(p, 0, length)
        if i:
            show = token.upper() in commands
            i, token = _token(p, i, length)
            show = show or (i != 0 and len(token) == 3 and token.isdigit())
    if not show:
        return name.upper(), True
    line, ok = _first_line(p, length, name)
    return name.upper() + line, ok


def http(p: bytes, length: int) -> tuple[str, bool]:
    return txtproto(p, length, "http", HTTP_COMMANDS)


def rtsp(p: bytes, length: int) -> tuple[str, bool]:
    return txtproto(p, length, "rtsp", RTSP_COMMANDS)


def bgp(p: bytes, length: int) -> tuple[str, bool]:
    """BGP (TCP port 179): tcpdump names it and, without -v, says no more."""
    return "BGP", True
