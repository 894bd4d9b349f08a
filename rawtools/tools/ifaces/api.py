"""`rawtools.ifaces()`: the interfaces of this network namespace as dataclasses."""

from rawtools.net.interfaces import Address, Interface, list_interfaces

__all__ = ["Address", "Interface", "ifaces"]


def ifaces() -> list[Interface]:
    """Every interface with flags, MTU, link address and IPv4/IPv6 addresses."""
    return list_interfaces()
