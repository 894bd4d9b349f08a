"""Telnet (TCP port 23, RFC 854): the option negotiation tcpdump lists after the length.

A segment that starts with IAC gets ` [telnet DO ECHO, WILL NAWS, SB ... SE]`,
one entry per command until a byte that is not IAC or a command that does
not parse; text after the commands is not shown. tcpdump measures each
command before it prints it, and a subnegotiation that runs to the end of
the segment counts its closing IAC SE even when only IAC is there, so the
length left can wrap around as tcpdump's unsigned count does; what runs past
the capture ends the text with `[|telnet]` and no closing bracket.
"""

from __future__ import annotations

IAC, SB, SE = 255, 250, 240
_DONT, _DO, _WONT, _WILL = 254, 253, 252, 251
_NEGOTIATIONS = frozenset((_DONT, _DO, _WONT, _WILL, SB))
_FIRST_COMMAND = 236  # EOF: the commands are 236 to 255
_AUTHENTICATION, _ENCRYPT = 37, 38
_U32 = 0xFFFFFFFF
_COMMANDS = ("EOF", "SUSP", "ABORT", "EOR", "SE", "NOP", "DMARK", "BRK", "IP", "AO", "AYT",
             "EC", "EL", "GA", "SB", "WILL", "WONT", "DO", "DONT", "IAC")
_OPTIONS = ("BINARY", "ECHO", "RCP", "SUPPRESS GO AHEAD", "NAME", "STATUS", "TIMING MARK",
            "RCTE", "NAOL", "NAOP", "NAOCRD", "NAOHTS", "NAOHTD", "NAOFFD", "NAOVTS", "NAOVTD",
            "NAOLFD", "EXTEND ASCII", "LOGOUT", "BYTE MACRO", "DATA ENTRY TERMINAL", "SUPDUP",
            "SUPDUP OUTPUT", "SEND LOCATION", "TERMINAL TYPE", "END OF RECORD", "TACACS UID",
            "OUTPUT MARKING", "TTYLOC", "3270 REGIME", "X.3 PAD", "NAWS", "TSPEED", "LFLOW",
            "LINEMODE", "XDISPLOC", "OLD-ENVIRON", "AUTHENTICATION", "ENCRYPT", "NEW-ENVIRON")
# A subnegotiation's first bytes by option: names for the qualifier (and the type after it).
_QUALIFIERS = ("IS", "SEND", "INFO")
_AUTH_QUALIFIERS = ("IS", "SEND", "REPLY", "NAME")
_AUTH_TYPES = ("NULL", "KERBEROS_V4", "KERBEROS_V5", "SPX", "MINK", "SRP", "RSA", "SSL", None,
               None, "LOKI", "SSA", "KEA_SJ", "KEA_SJ_INTEG", "DSS", "NTLM")
_ENC_QUALIFIERS = ("IS", "SUPPORT", "REPLY", "START", "END", "REQUEST-START", "REQUEST-END",
                   "END_KEYID", "DEC_KEYID")
_ENC_TYPES = ("NULL", "DES_CFB64", "DES_OFB64", "DES3_CFB64", "DES3_OFB64", None,
              "CAST5_40_CFB64", "CAST5_40_OFB64", "CAST128_CFB64", "CAST128_OFB64")
_SUBOPTION_NAMES: dict[int, tuple[tuple[str | None, ...], ...]] = {
    _AUTHENTICATION: (_AUTH_QUALIFIERS, _AUTH_TYPES), _ENCRYPT: (_ENC_QUALIFIERS, _ENC_TYPES)}
_CUT = " [|telnet]"


class _Cut(Exception):
    """The capture ends inside a command."""


class _End(Exception):
    """The bytes are not a command tcpdump parses: the list ends there."""


def telnet(p: bytes, length: int) -> tuple[str, bool]:
    """` [telnet CMD, CMD]` for a segment that starts with IAC; "" for one that does not."""
    parts: list[str] = []
    at = 0
    try:
        while length > 0 and _byte(p, at) == IAC:
            try:
                size = _Command(p, at, length).parse()
            except _End:
                break
            parts.append(" [telnet " if not parts else ", ")
            parts.append(_Command(p, at, length).text())
            at += size
            length = (length - size) & _U32
    except _Cut:
        return "".join(parts) + _CUT, False
    return ("".join(parts) + "]" if parts else ""), True


def _byte(p: bytes, at: int) -> int:
    if at >= len(p):
        raise _Cut
    return p[at]


def _hex(x: int) -> str:
    """C's `%#x`: no prefix for zero."""
    return f"{x:#x}" if x else "0"


def _name(x: int, names: tuple[str | None, ...]) -> str:
    name = names[x] if x < len(names) else None
    return name if name is not None else _hex(x)


class _Command:
    """One command at `at`, read as tcpdump reads it: `length` bytes of the segment are left."""

    def __init__(self, p: bytes, at: int, length: int) -> None:
        self.p, self.start, self.at, self.left = p, at, at, length
        self.out: list[str] = []

    def text(self) -> str:
        self.parse()
        return "".join(self.out)

    def fetch(self) -> int:
        if self.left < 1:
            raise _End
        c = _byte(self.p, self.at)
        self.at += 1
        self.left -= 1
        return c

    def parse(self) -> int:
        """The command's size; its text is left in `out`."""
        if self.fetch() != IAC:
            raise _End
        c = self.fetch()
        if c == IAC:
            self.out.append("IAC IAC")
        elif c < _FIRST_COMMAND:
            raise _End
        elif c not in _NEGOTIATIONS:
            self.out.append(_COMMANDS[c - _FIRST_COMMAND])
        else:
            x = self.fetch()
            option = _OPTIONS[x] if x < len(_OPTIONS) else _hex(x)
            self.out.append(f"{_COMMANDS[c - _FIRST_COMMAND]} {option}")
            if c == SB:
                self.subnegotiation(x)
        return self.at - self.start

    def subnegotiation(self, option: int) -> None:
        """What follows `SB option` up to IAC SE: its first bytes named, the rest in hex."""
        end = self.at
        while self.left > end + 1 - self.at:
            if end + 1 >= len(self.p):
                raise _Cut
            if self.p[end] == IAC and self.p[end + 1] == SE:
                break
            end += 1
        if _byte(self.p, end) != IAC:
            raise _End
        for names in _SUBOPTION_NAMES.get(option, (_QUALIFIERS,)):
            if end <= self.at:
                break
            self.out.append(" " + _name(self.fetch(), names))
        while end > self.at:
            self.out.append(" " + _hex(self.fetch()))
        self.out.append(" SE")
        self.at += 2
