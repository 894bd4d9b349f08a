"""The kernel's routing tables as /proc shows them: default gateways and the way out.

doctor reads /proc/net/route and /proc/net/ipv6_route rather than asking
netlink or running `ip route`: both files are plain text in every network
namespace (the reading process's own), need no privileges and no extra
dependency, and hold all a diagnosis needs (destination, gateway, device).
"""

from __future__ import annotations

import ipaddress
import socket
import struct

from rawtools.values import frozen

ROUTE4 = "/proc/net/route"
ROUTE6 = "/proc/net/ipv6_route"
RTF_UP = 0x0001
RTF_REJECT = 0x0200


@frozen
class Route:
    """One usable route: `gateway` None for an on-link (device) route."""

    version: int
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    gateway: str | None
    device: str
    metric: int

    @property
    def is_default(self) -> bool:
        return self.network.prefixlen == 0


def parse_route4(text: str) -> list[Route]:
    """/proc/net/route: little-endian hex words per line, a header first."""
    out: list[Route] = []
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 8:
            continue
        try:
            dest, gw, flags, metric, mask = (int(f[1], 16), int(f[2], 16), int(f[3], 16),
                                             int(f[6]), int(f[7], 16))
        except ValueError:
            continue
        if not flags & RTF_UP or flags & RTF_REJECT:
            continue
        addr = socket.inet_ntoa(struct.pack("<I", dest))
        prefix = bin(mask).count("1")
        gateway = socket.inet_ntoa(struct.pack("<I", gw)) if gw else None
        out.append(Route(4, ipaddress.IPv4Network(f"{addr}/{prefix}", strict=False), gateway,
                         f[0], metric))
    return out


def parse_route6(text: str) -> list[Route]:
    """/proc/net/ipv6_route: dest, prefix length, source, its length, next hop, metric,
    refcount, use, flags, device; the kernel's own reject routes (on lo) are left out."""
    out: list[Route] = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 10:
            continue
        try:
            dest = ipaddress.IPv6Address(bytes.fromhex(f[0]))
            prefix, hop = int(f[1], 16), ipaddress.IPv6Address(bytes.fromhex(f[4]))
            metric, flags = int(f[5], 16), int(f[8], 16)
            network = ipaddress.IPv6Network(f"{dest}/{prefix}", strict=False)
        except ValueError:
            continue
        if not flags & RTF_UP or flags & RTF_REJECT or f[9] == "lo":
            continue
        out.append(Route(6, network, None if hop.is_unspecified else str(hop), f[9], metric))
    return out


def read_routes() -> list[Route]:
    """Both tables of this namespace; a missing file (IPv6 off) is an empty table."""
    routes: list[Route] = []
    for path, parse in ((ROUTE4, parse_route4), (ROUTE6, parse_route6)):
        try:
            with open(path) as f:
                routes += parse(f.read())
        except OSError:
            continue
    return routes


def default_routes(routes: list[Route]) -> list[Route]:
    """The preferred default route of each family (lowest metric), IPv4 first."""
    best: dict[int, Route] = {}
    for r in routes:
        if r.is_default and (r.version not in best or r.metric < best[r.version].metric):
            best[r.version] = r
    return [best[v] for v in sorted(best)]


def route_to(routes: list[Route], addr: str) -> Route | None:
    """The route the kernel would pick for `addr`: longest prefix, then lowest metric."""
    ip = ipaddress.ip_address(addr.split("%")[0])
    fits = [r for r in routes if r.version == ip.version and ip in r.network]
    return min(fits, key=lambda r: (-r.network.prefixlen, r.metric), default=None)
