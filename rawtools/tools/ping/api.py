"""`rawtools.ping()`: the CLI's engine and options, results as dataclasses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rawtools.tools.ping.config import ping_config
from rawtools.tools.ping.report import ErrorSeen, PingResult, TargetResult, build_result
from rawtools.tools.ping.session import execute

if TYPE_CHECKING:
    from rawtools.engine import SocketKind

__all__ = ["ErrorSeen", "PingResult", "TargetResult", "ping"]


def ping(*hosts: str, count: int | None = None, interval: float | None = None,
         size: int | None = None, ttl: int | None = None, timeout: float | None = None,
         deadline: float | None = None, sweep: str | None = None, version: int | None = None,
         interface: str | None = None, pattern: bytes | str | None = None, retries: int = 2,
         mechanism: SocketKind | None = None, record: str | None = None,
         replay: str | None = None, broadcast: bool = False,
         dont_fragment: bool = False) -> PingResult:
    """Ping one or more hosts (or a CIDR `sweep`) and return typed results.

    The arguments are ping's flags by name (`interval` -i in seconds, 1 by
    default; `timeout` -W; `deadline` -w; `interface` -I, a device or a
    source address; `pattern` -p; `mechanism` --socket; `broadcast` -b;
    `dont_fragment` -M probe: DF set, so a probe too big for the path draws
    an error whose `mtu` names the narrower link).
    With one host and no count or deadline ping would run forever, so the
    API defaults to `count=3` then. Several hosts or a sweep are probed concurrently from
    one socket; each TargetResult says whether it answered (`state`: alive,
    unreachable, or no-route when the kernel has no route to it). Raises
    `rawtools.errors.UsageError` for values the CLI would refuse,
    `rawtools.errors.RouteError` when the one host has no route (iputils'
    `connect: Network is unreachable`), and other
    `rawtools.errors.RawtoolsError` subclasses for what fails later.
    """
    multi = bool(sweep) or len(hosts) > 1
    if count is None and deadline is None and not multi and replay is None:
        count = 3
    cfg = ping_config(hosts, count=count, interval=interval, size=size, ttl=ttl,
                      timeout=timeout, deadline=deadline, sweep=sweep, version=version,
                      interface=interface, pattern=pattern, retries=retries,
                      mechanism=mechanism, record=record, replay=replay,
                      broadcast=broadcast, dont_fragment=dont_fragment)
    return build_result(execute(cfg, lambda _targets, _source: None, lambda _ev: None))
