"""What every tool's options share: the common flags, and checking values the same way.

The CLI and the Python API of a tool build their options through one
constructor, which checks every value with the functions below; so a value
argparse never sees (a string where a number belongs, nan, inf, 1e300, a
bool) is refused through the API with the same one-line `UsageError` as
the command line gives.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
import re
import socket

from rawtools.errors import ResolveError, UsageError

NS = 1_000_000_000
MAX_SECONDS = 2_147_483
"""The longest wait any option may ask for: INT_MAX milliseconds, what epoll and
select take, about 24.8 days."""


def add_family_flags(p: argparse.ArgumentParser) -> None:
    """-4 / -6 into `version`, one excluding the other, as every tool that resolves takes them."""
    fam = p.add_mutually_exclusive_group()
    fam.add_argument("-4", dest="version", action="store_const", const=4, help="IPv4 only")
    fam.add_argument("-6", dest="version", action="store_const", const=6, help="IPv6 only")


def add_json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="JSON lines (schema rawtools/1)")


def add_record_replay_flags(p: argparse.ArgumentParser) -> None:
    """--record/--replay: a run saved as a pcap, and run again from it offline."""
    p.add_argument("--record", metavar="FILE.pcap",
                   help="write every packet sent and received to a pcap")
    p.add_argument("--replay", metavar="FILE.pcap",
                   help="run against a recording instead of the network")


def _shown(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def whole(name: str, value: object, lo: int, hi: int) -> int:
    """`value` as an int within lo..hi."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"invalid {name}: {value!r} is not a whole number")
    if not lo <= value <= hi:
        raise UsageError(f"invalid {name}: '{value}': out of range: {lo} <= value <= {hi}")
    return value


def seconds(name: str, value: object, *, allow_zero: bool = False) -> int:
    """A positive (or, with `allow_zero`, non-negative) finite number of seconds, in ns."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"invalid {name}: {value!r} is not a number of seconds")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise UsageError(f"invalid {name}: '{_shown(value)}'")
    if value > MAX_SECONDS:
        raise UsageError(f"invalid {name}: '{_shown(value)}': at most {MAX_SECONDS} seconds")
    return int(value * NS)


def texts(**named: object) -> None:
    """Each value None or a non-empty string (a host, an interface, a file name).

    From Python anything may come (nan, bytes, a list); the CLI only gives
    strings, but an empty one is as meaningless there.
    """
    for name, value in named.items():
        if value is not None and (not isinstance(value, str) or not value):
            raise UsageError(f"invalid {name.replace('_', ' ')}: {value!r}")


def file_name(name: str, value: object) -> str | None:
    """None, or a file name the OS can take: a non-empty string, no NUL, encodable.

    open() raises ValueError or UnicodeEncodeError for the others, which are
    not the one-line error a script catches with the rest.
    """
    texts(**{name: value})
    if value is None:
        return None
    assert isinstance(value, str)
    if "\0" in value or not _encodable(value):
        raise UsageError(f"invalid {name}: {value!r} is not a file name")
    return value


def _encodable(text: str) -> bool:
    try:
        os.fsencode(text)
    except UnicodeEncodeError:  # a lone surrogate, which no file name holds
        return False
    return True


def flag(name: str, value: object) -> bool:
    """A switch: True or False only (1, "yes" or nan are mistakes, not truths)."""
    if not isinstance(value, bool):
        raise UsageError(f"invalid {name}: {value!r} (True or False)")
    return value


def choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    """One of `allowed` (None is for the caller to handle before)."""
    if value not in allowed:
        raise UsageError(f"invalid {name}: {value!r} (one of {', '.join(allowed)})")
    assert isinstance(value, str)
    return value


def service_port(service: object) -> tuple[int, str | None]:
    """(port, name) of SERVICE: a number, or a name from the services database (UDP)."""
    if isinstance(service, int) and not isinstance(service, bool):
        return whole("port", service, 1, 65535), None
    if not isinstance(service, str) or not service:
        raise UsageError(f"invalid service: {service!r} (a name or a port number)")
    if service.isascii() and service.isdigit():
        return whole("port", int(service), 1, 65535), None
    try:
        return socket.getservbyname(service, "udp"), service
    except (OSError, ValueError):  # ValueError: a NUL in the name, which no service has
        raise ResolveError(f"{service}: unknown service (not a UDP service in "
                           "/etc/services; give a port number)") from None


INT_MAX = 2**31 - 1
"""The largest value a C int holds: where tcpdump's and libpcap's integer flags stop."""


def bounded(value: object, lo: int, hi: int, refusal: str) -> int:
    """`value` as an int within lo..hi, else `refusal` as the UsageError.

    For flags whose refusal should read as the peer tool's does
    (`invalid snaplen -1 (must be >= 0 and <= 262144)`, tcpdump's words).
    """
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise UsageError(refusal)
    return value


def positive(value: float, refusal: str) -> float:
    """`value` if finite and above zero, else `refusal` as the UsageError.

    float() reads "inf", "nan" and "1e400" without complaint; refused here,
    they never reach an int() that would raise OverflowError or ValueError.
    """
    if not (math.isfinite(value) and value > 0):
        raise UsageError(refusal)
    return value


# Compiled on first use (re caches it): every tool imports this module, few take endpoints.
_BRACKETED = r"\[([^\]]+)\](?:[.:](.*))?"


def endpoint(flag: str, text: object, forms: str, *, sep: str = ":",
             ports: tuple[int, int] | None = None) -> tuple[str, int | None, int]:
    """A numeric address and port as a flag takes it: (address, port, IP version).

    `[ADDR6]:PORT` always works; otherwise the port follows `sep`: ":" (one
    colon only, so a bare IPv6 address keeps its colons) or "." (UNP's
    `198.18.0.1.5353`, the last dot, unless the whole is an address).
    `ports` (lo, hi) makes the port required within that range; without it
    the port is optional (None) and any of 0-65535.
    """
    if not isinstance(text, str) or not text:
        raise UsageError(f"{flag} {text!r}: expected {forms}")
    m = re.fullmatch(_BRACKETED, text)
    if m:
        addr, port = m.group(1), m.group(2)
    elif sep == "." and "." in text and not _is_address(text):
        addr, port = text.rsplit(".", 1)
    elif sep == ":" and text.count(":") == 1:
        addr, port = text.split(":")
    else:
        addr, port = text, None
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        raise UsageError(f"{flag} {text}: {addr!r} is not a numeric address; expected "
                         f"{forms}") from None
    lo, hi = ports or (0, 65535)
    valid = port is not None and port.isascii() and port.isdigit() and lo <= int(port) <= hi
    if ports is None:
        if port is not None and not valid:
            raise UsageError(f"{flag} {text}: the port must be 0-65535")
        return str(ip), int(port) if valid and port else None, ip.version
    if ip.version == 6 and not m and sep == ":":
        raise UsageError(f"{flag} {text}: put an IPv6 address in brackets, [{addr}]:PORT")
    if not valid:
        raise UsageError(f"{flag} {text}: a port {lo}-{hi} is needed after the address; "
                         f"expected {forms}")
    return str(ip), int(port or 0), ip.version


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
