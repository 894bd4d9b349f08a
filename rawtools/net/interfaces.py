"""Interfaces and their addresses: UNP's get_ifi_info, on netifaces.

netifaces gives addresses per family; flags and MTU come from the same
ioctls UNP uses (SIOCGIFFLAGS, SIOCGIFMTU), so the answer is the kernel's
own, also inside a network namespace where /sys may belong to another one.
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct

import netifaces

from rawtools.values import field, frozen, mutable

SIOCGIFFLAGS = 0x8913
SIOCGIFMTU = 0x8921
IFF_UP, IFF_LOOPBACK = 0x1, 0x8

# Flag names as `ip link` and ifconfig print them, lowest bit first.
_FLAGS = ["UP", "BROADCAST", "DEBUG", "LOOPBACK", "POINTOPOINT", "NOTRAILERS", "RUNNING",
          "NOARP", "PROMISC", "ALLMULTI", "MASTER", "SLAVE", "MULTICAST", "PORTSEL",
          "AUTOMEDIA", "DYNAMIC", "LOWER_UP", "DORMANT", "ECHO"]


@frozen
class Address:
    """One address with its prefix length (and broadcast or peer if any)."""

    family: int
    addr: str
    prefixlen: int | None
    broadcast: str | None = None
    peer: str | None = None

    def __str__(self) -> str:
        return self.addr if self.prefixlen is None else f"{self.addr}/{self.prefixlen}"


@mutable
class Interface:
    """An interface as `rawtools ifaces` shows it."""

    name: str
    index: int
    flags: list[str]
    mtu: int | None
    link_addr: str | None
    ipv4: list[Address] = field(default_factory=list)
    ipv6: list[Address] = field(default_factory=list)

    @property
    def up(self) -> bool:
        return "UP" in self.flags

    @property
    def loopback(self) -> bool:
        return "LOOPBACK" in self.flags


def _ioctl(sock: socket.socket, request: int, name: str) -> bytes | None:
    try:
        return fcntl.ioctl(sock.fileno(), request, struct.pack("16s16x", name.encode()[:15]))
    except OSError:
        return None


def _prefix(mask: str | None) -> int | None:
    if not mask:
        return None
    if "/" in mask:
        return int(mask.rsplit("/", 1)[1])
    try:
        return ipaddress.ip_network(f"0.0.0.0/{mask}").prefixlen
    except ValueError:
        return bin(int(ipaddress.ip_address(mask))).count("1")


def list_interfaces() -> list[Interface]:
    """Every interface of this network namespace, in kernel index order."""
    out = []
    index = {name: i for i, name in socket.if_nameindex()}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for name in netifaces.interfaces():
            raw = _ioctl(s, SIOCGIFFLAGS, name)
            bits = struct.unpack_from("H", raw, 16)[0] if raw else 0
            raw = _ioctl(s, SIOCGIFMTU, name)
            mtu = struct.unpack_from("i", raw, 16)[0] if raw else None
            addrs = netifaces.ifaddresses(name)
            link = addrs.get(netifaces.AF_PACKET, [{}])[0].get("addr")
            iface = Interface(name, index.get(name, 0),
                              [f for i, f in enumerate(_FLAGS) if bits >> i & 1], mtu, link)
            for a in addrs.get(netifaces.AF_INET, []):
                # netifaces reports the address itself where none is set.
                brd = a.get("broadcast") if a.get("broadcast") != a["addr"] else None
                peer = a.get("peer") if a.get("peer") != a["addr"] else None
                iface.ipv4.append(Address(4, a["addr"], _prefix(a.get("netmask")), brd, peer))
            for a in addrs.get(netifaces.AF_INET6, []):
                iface.ipv6.append(Address(6, a["addr"], _prefix(a.get("netmask"))))
            out.append(iface)
    return sorted(out, key=lambda i: i.index)


def default_interface() -> str | None:
    """tcpdump's choice when no interface is named: the first up and not loopback.

    In kernel index order, from the kernel's own list and flags (not
    netifaces', which also lists address labels such as eth0:1).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in sorted(socket.if_nameindex()):
            raw = _ioctl(s, SIOCGIFFLAGS, name)
            if raw is None:
                continue
            flags = struct.unpack_from("H", raw, 16)[0]
            if flags & IFF_UP and not flags & IFF_LOOPBACK:
                return name
    return None
