"""What an icmpd run is asked to do, checked once for the command line and for Python callers.

`icmpd_config` is the only way to an `IcmpdConfig`: `rawtools icmpd` hands
it the parsed flags, a test or a service wrapper its keyword arguments, so a
bad mode, an unknown group or user, or a watch that is not ADDR:PORT is
refused with the same single line either way, before any socket is opened.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
from collections.abc import Iterable

from rawtools.errors import UsageError
from rawtools.tools.options import endpoint
from rawtools.values import field, frozen, mutable
from rawtools.wire.icmpdmsg import DEFAULT_SOCKET

SUN_PATH_MAX = 107
"""sockaddr_un holds 108 bytes, the last for the terminating NUL."""
DEFAULT_MODE = 0o660
_WATCH_FORMS = "ADDR:PORT, e.g. 198.18.0.1:5000, or [ADDR6]:PORT, e.g. [2001:db8::1]:5000"


@frozen
class Watch:
    """A registration a replay pretends to have: a UDP socket's family, address and port."""

    version: int
    addr: str
    port: int

    def __str__(self) -> str:
        return f"[{self.addr}]:{self.port}" if self.version == 6 else f"{self.addr}:{self.port}"


@mutable
class IcmpdConfig:
    """A daemon run (socket, permissions, who to become) or a replay of a recording."""

    socket_path: str = DEFAULT_SOCKET
    mode: int = DEFAULT_MODE
    group: str | None = None
    gid: int | None = None
    user: str | None = None
    verbose: bool = False
    json: bool = False
    record: str | None = None
    replay: str | None = None
    watches: list[Watch] = field(default_factory=list)


def parse_mode(value: object) -> int:
    """--mode: permission bits in octal ("0660", "660") or an int from Python, 0..0o777."""
    if isinstance(value, int) and not isinstance(value, bool):
        bits = value
    elif isinstance(value, str) and value.isascii() and re.fullmatch(r"0?[0-7]{3}", value):
        bits = int(value, 8)
    else:
        raise UsageError(f"invalid --mode: {value!r} (octal permission bits, e.g. 0660)")
    if not 0 <= bits <= 0o777:
        raise UsageError(f"invalid --mode: {value!r} (0000 to 0777)")
    return bits


def parse_watch(text: object) -> Watch:
    """--watch ADDR:PORT, IPv6 in brackets; a wildcard address stands for any of ours."""
    addr, port, version = endpoint("--watch", text, _WATCH_FORMS, ports=(1, 65535))
    return Watch(version, addr, port or 0)


def _gid(group: object) -> int | None:
    if group is None:
        return None
    if not isinstance(group, str) or not group:
        raise UsageError(f"invalid --group: {group!r}")
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        if group.isascii() and group.isdigit():
            return int(group)
        raise UsageError(f"unknown group {group!r}") from None


def icmpd_config(socket_path: str = DEFAULT_SOCKET, *, mode: str | int = DEFAULT_MODE,
                 group: str | None = None, user: str | None = None, verbose: bool = False,
                 json: bool = False, record: str | None = None, replay: str | None = None,
                 watch: Iterable[str] = ()) -> IcmpdConfig:
    """Check every value; `watch` (ADDR:PORT strings) goes with `replay` only."""
    for what, text in (("--socket", socket_path), ("--record file", record),
                       ("--replay file", replay), ("--user", user)):
        if text is not None and (not isinstance(text, str) or not text):
            raise UsageError(f"invalid {what}: {text!r}")
    if len(os.fsencode(socket_path)) > SUN_PATH_MAX:
        raise UsageError(f"--socket {socket_path}: longer than the {SUN_PATH_MAX} bytes a "
                         "Unix socket address holds")
    for flag, switch in (("-v", verbose), ("--json", json)):
        if not isinstance(switch, bool):
            raise UsageError(f"invalid {flag}: {switch!r} (True or False)")
    if user is not None:
        try:
            pwd.getpwnam(user)
        except KeyError:
            raise UsageError(f"unknown user {user!r}") from None
    if isinstance(watch, str):
        raise UsageError("watch: a list of ADDR:PORT strings, not one string")
    watches = [parse_watch(w) for w in watch]
    if watches and replay is None:
        raise UsageError("--watch goes with --replay (a live daemon learns its sockets from "
                         "its clients)")
    if replay is not None and record is not None:
        raise UsageError("--record and --replay: give one (a replay receives nothing new)")
    return IcmpdConfig(socket_path, parse_mode(mode), group, _gid(group), user, verbose, json,
                       record, replay, watches)
