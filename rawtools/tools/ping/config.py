"""A ping run as asked for, checked once for the CLI and the Python API alike.

`ping_config` is the only way to a `PingConfig`: `rawtools ping` calls it
with the parsed flags, `rawtools.ping()` with its keyword arguments, so both
refuse the same values with the same words (iputils' where it has them) and
turn seconds into the engine's nanoseconds the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rawtools.errors import UsageError
from rawtools.io.privileges import has_net_raw
from rawtools.net.resolve import is_numeric
from rawtools.tools.options import NS, choice, flag, seconds, texts, whole
from rawtools.tools.ping.engine import MS, PingOptions
from rawtools.values import field, mutable

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from rawtools.engine import SocketKind

SOCKETS: tuple[SocketKind, ...] = ("raw", "dgram")
MAX_SIZE = 65507
MAX_COUNT = 2**63 - 1
MAX_PATTERN = 16
USER_MIN_INTERVAL_NS = 200_000_000


@mutable
class PingConfig:
    """A run as the user asked for it, before anything is opened."""

    targets: list[str] = field(default_factory=list)
    sweep: str | None = None
    version: int | None = None
    opts: PingOptions = field(default_factory=PingOptions)
    source: str | None = None
    device: str | None = None
    mechanism: SocketKind | None = None
    record: str | None = None
    replay: str | None = None
    interval_given: bool = True
    size_given: bool = True
    broadcast: bool = False
    dont_fragment: bool = False


def parse_pattern(text: str | bytes | None) -> bytes:
    """-p: up to 16 bytes given as hex digits (or, from Python, as bytes)."""
    if text is None or text == "":
        return b""
    if isinstance(text, bytes):
        if len(text) > MAX_PATTERN:
            raise UsageError(f"invalid pattern: more than {MAX_PATTERN} bytes")
        return text
    if not isinstance(text, str) or not re.fullmatch(r"[0-9a-fA-F]{1,32}", text):
        raise UsageError(f"-p {text}: patterns must be given as hex digits (up to 16 bytes)")
    return bytes.fromhex(text if len(text) % 2 == 0 else "0" + text)


def ping_config(hosts: Sequence[str] = (), *, count: int | None = None,
                interval: float | None = None, size: int | None = None, ttl: int | None = None,
                timeout: float | None = None, deadline: float | None = None,
                sweep: str | None = None, version: int | None = None,
                interface: str | None = None, pattern: str | bytes | None = None,
                flood: bool = False, outstanding: bool = False, retries: int = 2,
                mechanism: SocketKind | None = None, record: str | None = None,
                replay: str | None = None, broadcast: bool = False,
                dont_fragment: bool = False) -> PingConfig:
    """Check every value as iputils does and build the run's configuration.

    `interface` is a device name or a source address, as ping's -I; `None`
    for `interval` means 1 s (10 ms with `flood`), for `size` 56 bytes, or
    either as recorded in a replay. `broadcast` is -b: without it, the
    kernel refuses to send to a broadcast address, and ping says so.
    `dont_fragment` is `-M probe`: DF set, the cached path MTU ignored, so a
    probe too big for a link on the way draws fragmentation-needed (packet
    too big) with that link's MTU, which is how path MTU is measured.
    """
    if isinstance(hosts, str):
        hosts = [hosts]
    for h in hosts:
        if not isinstance(h, str) or not h:
            raise UsageError(f"invalid host: {h!r}")
    texts(interface=interface, sweep=sweep, record_file=record, replay_file=replay)
    if count is not None:
        whole("count (-c)", count, 1, MAX_COUNT)
    interval_ns = None if interval is None else seconds("interval (-i)", interval,
                                                        allow_zero=True)
    timeout_ns = None if timeout is None else seconds("timeout (-W)", timeout)
    deadline_ns = None if deadline is None else seconds("deadline (-w)", deadline)
    size_given = size is not None
    size = whole("-s value", 56 if size is None else size, 0, MAX_SIZE)
    if ttl is not None:
        whole("-t value", ttl, 1, 255)
    whole("--retries", retries, 0, 1000)
    if version not in (None, 4, 6):
        raise UsageError(f"invalid IP version: {version!r} (4 or 6)")
    if mechanism is not None:
        choice("socket", mechanism, SOCKETS)
    if not isinstance(broadcast, bool):
        raise UsageError(f"invalid broadcast (-b): {broadcast!r} (True or False)")
    flag("dont_fragment (-M probe)", dont_fragment)
    fast = flood or (interval_ns is not None and interval_ns < USER_MIN_INTERVAL_NS)
    if fast and replay is None and not has_net_raw():
        raise UsageError("cannot flood; minimal interval allowed for user is 200ms")
    multi = bool(sweep) or len(hosts) > 1
    if interval_ns is None:
        interval_ns = NS // 100 if flood else NS
    opts = PingOptions(
        count=count, interval_ns=interval_ns, size=size, ttl=ttl,
        linger_ns=timeout_ns if timeout_ns is not None else 10 * NS,
        timeout_ns=timeout_ns, deadline_ns=deadline_ns, pattern=parse_pattern(pattern),
        flood=flood, report_outstanding=outstanding, multi=multi, retries=retries,
        spacing_ns=MS)
    source = device = None
    if interface:
        if is_numeric(interface):
            source = interface
        else:
            device = interface
    return PingConfig(targets=list(hosts), sweep=sweep or None, version=version, opts=opts,
                      source=source, device=device, mechanism=mechanism, record=record,
                      replay=replay, interval_given=interval is not None,
                      size_given=size_given, broadcast=broadcast,
                      dont_fragment=dont_fragment)
