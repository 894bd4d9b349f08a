"""`rawtools.ping()`: the CLI's engine and options, results as dataclasses."""

from __future__ import annotations

from rawtools.io.loop import Stop
from rawtools.tools.ping.engine import MS, NS, PingOptions
from rawtools.tools.ping.report import ErrorSeen, PingResult, TargetResult, build_result
from rawtools.tools.ping.session import PingConfig, execute

__all__ = ["ErrorSeen", "PingResult", "TargetResult", "ping"]


def ping(*hosts: str, count: int | None = None, interval: float = 1.0, size: int = 56,
         ttl: int | None = None, timeout: float | None = None, deadline: float | None = None,
         sweep: str | None = None, version: int | None = None, source: str | None = None,
         interface: str | None = None, pattern: bytes = b"", retries: int = 2,
         socket_type: str | None = None, record: str | None = None,
         replay: str | None = None) -> PingResult:
    """Ping one or more hosts (or a CIDR `sweep`) and return typed results.

    With one host and no count or deadline, it would run forever as ping does,
    so the API defaults to `count=3` for that case. Several hosts or a sweep
    are probed concurrently from one socket; each TargetResult says whether it
    answered. Raises `rawtools.errors.RawtoolsError` subclasses on bad input.
    """
    multi = bool(sweep) or len(hosts) > 1
    if count is None and deadline is None and not multi and replay is None:
        count = 3
    opts = PingOptions(
        count=count, interval_ns=int(interval * NS), size=size, ttl=ttl,
        linger_ns=int((timeout if timeout is not None else 10) * NS),
        timeout_ns=int(timeout * NS) if timeout is not None else None,
        deadline_ns=int(deadline * NS) if deadline is not None else None,
        pattern=pattern, multi=multi, retries=retries, spacing_ns=MS)
    cfg = PingConfig(targets=list(hosts), sweep=sweep, version=version, opts=opts,
                     source=source, device=interface, mechanism=socket_type, record=record,
                     replay=replay)
    run = execute(cfg, lambda _targets, _source: None, lambda _ev: None, Stop())
    return build_result(run)
