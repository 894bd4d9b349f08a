"""Syslog (UDP port 514, RFC 3164/5424) as tcpdump prints it: facility.severity, length.

Only the `<PRI>` at the start is read, as tcpdump reads it (at most three
digits); a message without one is `(invalid)`.
"""

from __future__ import annotations

_SEVERITIES = ("emergency", "alert", "critical", "error", "warning", "notice", "info", "debug")
_FACILITIES = ("kernel", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp",
               "cron", "authpriv", "ftp", "ntp", "security", "console", "cron", "local0",
               "local1", "local2", "local3", "local4", "local5", "local6", "local7")
_MAX_DIGITS = 3
_LT, _GT, _ZERO, _NINE = 0x3C, 0x3E, 0x30, 0x39
_TRUNCATED = " [|syslog]"


def syslog(p: bytes, length: int) -> tuple[str, bool]:
    """`SYSLOG daemon.info, length: 60`, or tcpdump's marks for what is not one."""
    if not p:
        return _TRUNCATED, False
    if p[0] != _LT:
        return _invalid()
    i, pri = 1, 0
    while i <= _MAX_DIGITS and i < len(p) and _ZERO <= p[i] <= _NINE:
        pri = pri * 10 + p[i] - _ZERO
        i += 1
    if i >= len(p):
        return _TRUNCATED, False
    if p[i] != _GT:
        return _invalid()
    facility, severity = (pri & 0x3F8) >> 3, pri & 7
    name = _FACILITIES[facility] if facility < len(_FACILITIES) else f"unknown ({facility})"
    return f"SYSLOG {name}.{_SEVERITIES[severity]}, length: {length}", True


def _invalid() -> tuple[str, bool]:
    return " (invalid)", False
