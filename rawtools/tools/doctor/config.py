"""A diagnosis as asked for, checked once for `rawtools doctor` and `rawtools.doctor()`.

`doctor_config` is the only way to a `DoctorConfig`: both front ends refuse
the same values with the same words before anything is sent, so a typo in
`--dns` is exit 2, not a resolver reported dead.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from rawtools.errors import UsageError
from rawtools.tools.doctor.report import CHECKS, CheckName
from rawtools.tools.doctor.resolvconf import RESOLV_CONF
from rawtools.tools.options import choice, file_name, flag, seconds, texts, whole
from rawtools.values import frozen

MAX_WAIT_S = 60
QTYPES = ("A", "AAAA", "NS", "SOA")
_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


@frozen
class DoctorConfig:
    """What to check and how long to wait for each answer (`wait`, seconds)."""

    host: str | None
    checks: tuple[CheckName, ...]
    dns: tuple[str, ...]
    resolv_conf: str
    query: str
    qtype: str
    wait: float
    version: int | None
    max_ttl: int
    strict: bool


def _address(text: object) -> str:
    """A resolver's numeric address (a zone index allowed): naming it would need DNS."""
    if not isinstance(text, str) or not text:
        raise UsageError(f"invalid --dns address: {text!r}")
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        raise UsageError(f"invalid --dns address: {text!r} (a numeric IPv4 or IPv6 "
                         "address: naming the resolver would need a resolver)") from None
    return text


def _dns_name(text: object) -> str:
    """A name DNS can carry: labels of 1-63 letters, digits, '-' or '_'; "." the root."""
    if not isinstance(text, str) or not text:
        raise UsageError(f"invalid --query name: {text!r}")
    name = text.rstrip(".")
    if name and (len(name) > 253 or not all(_LABEL.fullmatch(lb) for lb in name.split("."))):
        raise UsageError(f"invalid --query name: {text!r}")
    return text


def _listed(name: str, value: object, what: str) -> list[object] | None:
    """None, one string, or a non-empty list or tuple of them, as a list (items checked later)."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list | tuple) or not value:
        raise UsageError(f"invalid {name}: {value!r} ({what})")
    return list(value)


def doctor_config(host: str | None = None, *, dns: Sequence[str] | str | None = None,
                  checks: Sequence[str] | str | None = None, wait: float = 1.0,
                  resolv_conf: str = RESOLV_CONF, query: str = ".", qtype: str = "NS",
                  version: int | None = None, max_ttl: int = 30,
                  strict: bool = False) -> DoctorConfig:
    """Check every value and decide which checks run.

    Without `checks`, all run that apply: path and MTU only with a `host`.
    Naming path or mtu without a host is a usage error, as is a `dns`
    entry that is not a numeric address.
    """
    texts(host=host)
    servers = tuple(_address(a) for a in _listed("dns", dns, "a list of addresses") or ())
    named = _listed("checks", checks, f"some of {', '.join(CHECKS)}")
    chosen = [choice("check", c, CHECKS) for c in named] if named is not None else \
        [c for c in CHECKS if host is not None or c not in ("path", "mtu")]
    if host is None and ({"path", "mtu"} & set(chosen)):
        raise UsageError("the path and mtu checks need a HOST")
    seconds("wait (-w)", wait)
    if wait > MAX_WAIT_S:
        raise UsageError(f"invalid wait (-w): '{wait:g}': at most {MAX_WAIT_S} seconds")
    path = file_name("resolv_conf", resolv_conf)
    if path is None:
        raise UsageError(f"invalid resolv_conf: {resolv_conf!r}")
    if version not in (None, 4, 6):
        raise UsageError(f"invalid IP version: {version!r} (4 or 6)")
    return DoctorConfig(
        host=host, checks=tuple(c for c in CHECKS if c in chosen), dns=servers,
        resolv_conf=path, query=_dns_name(query), qtype=choice("qtype", qtype, QTYPES),
        wait=float(wait), version=version, max_ttl=whole("max_ttl (-m)", max_ttl, 1, 255),
        strict=flag("strict", strict))
