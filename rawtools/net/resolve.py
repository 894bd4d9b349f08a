"""Name resolution, done once per target before the first probe.

ping resolves a name once and probes the address it got; doing it here, in
one place, gives every tool the same refusal of IPv4-mapped IPv6 addresses
(the kernel would send IPv4 and the user would not be told) and the same
one-line error for unknown hosts.
"""

from __future__ import annotations

import ipaddress
import socket

from rawtools.errors import ResolveError


def resolve(host: str, version: int | None = None) -> tuple[str, int]:
    """(address, IP version) of `host`, honouring -4/-6 when given."""
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        ip = None
    if ip is not None:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            raise ResolveError(f"{host}: IPv4-mapped IPv6 addresses are not supported; "
                               f"use {ip.ipv4_mapped} with -4")
        if version and ip.version != version:
            raise ResolveError(f"{host}: not an IPv{version} address")
        return str(ip), ip.version
    fam = {4: socket.AF_INET, 6: socket.AF_INET6}.get(version or 0, socket.AF_UNSPEC)
    try:
        infos = socket.getaddrinfo(host, None, fam, socket.SOCK_RAW)
    except (socket.gaierror, UnicodeError) as e:
        msg = e.strerror if isinstance(e, socket.gaierror) else "invalid name"
        raise ResolveError(f"{host}: {msg}") from None
    for af, *_rest, sa in infos:
        addr = str(sa[0])
        found = ipaddress.ip_address(addr)
        if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
            continue
        return addr, 6 if af == socket.AF_INET6 else 4
    raise ResolveError(f"{host}: no usable address")


def is_numeric(host: str) -> bool:
    """True if `host` is an address literal (then no reverse lookups, as iputils)."""
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


class ReverseNames:
    """Reverse lookups with a cache, or none at all (-n / numeric target)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.cache: dict[str, str] = {}

    def __call__(self, addr: str) -> str:
        if not self.enabled:
            return addr
        name = self.cache.get(addr)
        if name is None:
            try:
                host = socket.gethostbyaddr(addr)[0]
                name = f"{host} ({addr})"
            except (OSError, UnicodeError):
                name = addr
            self.cache[addr] = name
        return name
