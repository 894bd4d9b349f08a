"""A udpcksum run as asked for, checked once for the CLI and the Python API alike.

`udpcksum_config` is the only way to a `UdpCksumConfig`: `rawtools udpcksum`
calls it with the parsed flags, `rawtools.udpcksum()` with its keyword
arguments, so both refuse the same values with the same words and build the
same payload.
"""

from __future__ import annotations

from rawtools.errors import UsageError
from rawtools.tools.options import MAX_SECONDS, NS, endpoint, seconds, service_port, whole
from rawtools.tools.udpcksum.payloads import (
    DEFAULT_QUERY,
    NTP_PORT,
    PayloadKind,
    check_query,
    dns_query,
    ntp_request,
    parse_hex,
)
from rawtools.values import frozen, mutable

MAX_RETRIES = 30
_LOCAL_FORMS = "ADDR.PORT, e.g. 198.18.0.1.5353, or [ADDR6]:PORT, e.g. [2001:db8::1]:5353"


@frozen
class Local:
    """-l: our address and port (0: the kernel picks the port)."""

    addr: str
    port: int
    version: int


@mutable
class UdpCksumConfig:
    """Everything a run is asked to do, validated; times in nanoseconds."""

    host: str | None
    port: int | None
    service: str | None
    kind: PayloadKind
    query: str | None
    payload: bytes
    zero: bool = False
    wait_ns: int = 3_000_000_000
    retries: int = 2
    local: Local | None = None
    device: str | None = None
    version: int | None = None
    record: str | None = None
    replay: str | None = None


def parse_local(text: object) -> Local:
    """UNP's `-l localname.localport` with a numeric address; IPv6 also as [ADDR]:PORT.

    The port is the part after the last dot, so `2001:db8::1.5353` works
    too; a port of 0 leaves the choice to the kernel.
    """
    addr, port, version = endpoint("-l", text, _LOCAL_FORMS, sep=".", ports=(0, 65535))
    return Local(addr, port or 0, version)


def _payload(port: int | None, query: str | None, ntp: bool,
             payload: str | bytes | None) -> tuple[PayloadKind, str | None, bytes]:
    """The question: --payload, --ntp, or a DNS query (-q); NTP unasked on port 123."""
    if sum((query is not None, payload is not None, ntp)) > 1:
        raise UsageError("-q, --ntp and --payload each choose the payload: give one")
    if payload is not None:
        return "hex", None, parse_hex(payload)
    if ntp or (query is None and port == NTP_PORT):
        return "ntp", None, ntp_request()
    name = check_query(DEFAULT_QUERY if query is None else query)
    return "dns", name, dns_query(name)


def udpcksum_config(host: str | None = None, service: str | int | None = None, *,
                    query: str | None = None, ntp: bool = False,
                    payload: str | bytes | None = None, zero: bool = False,
                    wait: float = 3.0, retries: int = 2, local: str | None = None,
                    interface: str | None = None, version: int | None = None,
                    record: str | None = None, replay: str | None = None) -> UdpCksumConfig:
    """Check every value and build the run; `wait` (seconds) doubles after each try.

    HOST and SERVICE may be left out of a replay, which learns them from the
    recording; given, they must be the recorded ones.
    """
    for what, text in (("host", host), ("--record file", record), ("--replay file", replay),
                       ("interface (-i)", interface)):
        if text is not None and (not isinstance(text, str) or not text):
            raise UsageError(f"invalid {what}: {text!r}")
    if replay is None and (host is None or service is None):
        raise UsageError("a host and a service are needed (usage: rawtools udpcksum [options] "
                         "HOST SERVICE)")
    port, name = service_port(service) if service is not None else (None, None)
    if version not in (None, 4, 6):
        raise UsageError(f"invalid IP version: {version!r} (4 or 6)")
    loc = parse_local(local) if local is not None else None
    if loc is not None and version is not None and loc.version != version:
        raise UsageError(f"-l {local}: not an IPv{version} address")
    for flag, switch in (("--ntp", ntp), ("-0", zero)):
        if not isinstance(switch, bool):
            raise UsageError(f"invalid {flag}: {switch!r} (True or False)")
    wait_ns = seconds("wait (-w)", wait)
    whole("retries (-r)", retries, 0, MAX_RETRIES)
    if wait_ns << retries > MAX_SECONDS * NS:
        raise UsageError(f"-w {wait} -r {retries}: the last wait, doubled {retries} times, "
                         f"would exceed {MAX_SECONDS} seconds")
    kind, qname, data = _payload(port, query, ntp, payload)
    return UdpCksumConfig(host=host, port=port, service=name, kind=kind, query=qname,
                          payload=data, zero=zero, wait_ns=wait_ns, retries=retries,
                          local=loc, device=interface,
                          version=version if version is not None else
                          (loc.version if loc else None), record=record, replay=replay)
