"""A udpcli run as asked for, every value checked before a socket is opened."""

from __future__ import annotations

from rawtools.errors import UsageError
from rawtools.net.resolve import resolve
from rawtools.tools.options import endpoint, seconds, service_port, whole
from rawtools.values import frozen
from rawtools.wire.icmpdmsg import DEFAULT_SOCKET

_LOCAL_FORMS = "ADDR or ADDR:PORT, e.g. 198.18.0.1:5353, or [ADDR6]:PORT"


@frozen
class UdpCliConfig:
    """Where to send, how to learn the errors (`icmpd` None: the error queue), times in ns."""

    dst: str
    port: int
    version: int
    icmpd: str | None = DEFAULT_SOCKET
    timeout_ns: int = 5_000_000_000
    ttl: int | None = None
    df: bool = False
    local: tuple[str, int] | None = None
    verbose: bool = False


def parse_local(text: object) -> tuple[str, int, int]:
    """-l ADDR[:PORT]: (address, port, IP version); IPv6 with a port in brackets.

    A bare IPv6 address (no brackets) has no port: its colons are the
    address's own. Port 0, or none, lets the kernel choose.
    """
    addr, port, version = endpoint("-l", text, _LOCAL_FORMS)
    return addr, port or 0, version


def udpcli_config(host: str, port: str | int, *, icmpd: str | None = DEFAULT_SOCKET,
                  version: int | None = None, timeout: float = 5.0, ttl: int | None = None,
                  df: bool = False, local: str | None = None,
                  verbose: bool = False) -> UdpCliConfig:
    """Check every value and resolve HOST (honouring -4/-6 and -l's family)."""
    if not isinstance(host, str) or not host:
        raise UsageError(f"invalid host: {host!r}")
    if icmpd is not None and (not isinstance(icmpd, str) or not icmpd):
        raise UsageError(f"invalid --icmpd path: {icmpd!r}")
    if version not in (None, 4, 6):
        raise UsageError(f"invalid IP version: {version!r} (4 or 6)")
    dport, _name = service_port(port)
    timeout_ns = seconds("timeout (-t)", timeout)
    if ttl is not None:
        whole("--ttl", ttl, 1, 255)
    loc = None
    if local is not None:
        addr, lport, lversion = parse_local(local)
        if version is not None and lversion != version:
            raise UsageError(f"-l {local}: not an IPv{version} address")
        version, loc = lversion, (addr, lport)
    dst, dversion = resolve(host, version)
    return UdpCliConfig(dst=dst, port=dport, version=dversion, icmpd=icmpd,
                        timeout_ns=timeout_ns, ttl=ttl, df=bool(df), local=loc,
                        verbose=bool(verbose))
