"""`rawtools.doctor()`: the composite diagnosis, checks as typed results.

`trace` comes from `rawtools` at import, like the names the checks use, so
it is loaded before the first ping gives up root (after which a late
import may find the interpreter's files unreadable).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence

from rawtools import trace
from rawtools.errors import RawtoolsError, UsageError
from rawtools.tools.doctor import checks as run_checks
from rawtools.tools.doctor.config import DoctorConfig, doctor_config
from rawtools.tools.doctor.report import Check, DoctorResult
from rawtools.tools.doctor.resolvconf import RESOLV_CONF

__all__ = ["Check", "DoctorResult", "doctor"]


def doctor(host: str | None = None, *, dns: Sequence[str] | str | None = None,
           checks: Sequence[str] | str | None = None, wait: float = 1.0,
           resolv_conf: str = RESOLV_CONF, query: str = ".", qtype: str = "NS",
           version: int | None = None, max_ttl: int = 30, strict: bool = False,
           on_check: Callable[[Check], None] | None = None) -> DoctorResult:
    """Diagnose this host's network: interfaces, gateways, resolvers, and the way to `host`.

    Runs `checks` (default: interfaces, gateway, dns, and with a `host` also
    path and mtu), each as one or more `Check` lines with a verdict "ok",
    "warn" or "fail". `dns` names the resolvers to ask (numeric addresses;
    default: resolv.conf's nameservers), `query`/`qtype` the question (". NS"),
    `wait` the seconds any answer is waited for, `version` limits gateways,
    path and MTU to IPv4 or IPv6. `on_check(check)` is called as each line
    is decided. The result `passed` unless a check failed (or, with
    `strict`, warned). Raises `rawtools.errors.UsageError` for values the
    CLI would refuse; what the network does is a verdict, never an exception.
    """
    cfg = doctor_config(host, dns=dns, checks=checks, wait=wait, resolv_conf=resolv_conf,
                        query=query, qtype=qtype, version=version, max_ttl=max_ttl,
                        strict=strict)
    if on_check is not None and not callable(on_check):
        raise UsageError(f"invalid on_check: {on_check!r} (a callable taking a Check)")
    found: list[Check] = []

    def add(new: list[Check]) -> None:
        for c in new:
            found.append(c)
            if on_check is not None:
                on_check(c)

    for name in cfg.checks:
        if name in run_checks.SIMPLE:
            add(run_checks.SIMPLE[name](cfg))
    if cfg.host is not None and {"path", "mtu"} & set(cfg.checks):
        add(_towards(cfg, cfg.host))
    return DoctorResult(cfg.host, found, cfg.strict)


def _towards(cfg: DoctorConfig, host: str) -> list[Check]:
    """The path and MTU lines: the trace tells the address the MTU probes go to."""
    out: list[Check] = []
    addr: str | None = None
    if "path" in cfg.checks:
        try:
            res = trace(host, method="icmp", version=cfg.version,
                                   max_ttl=cfg.max_ttl, nqueries=1, wait=cfg.wait)
        except RawtoolsError as e:
            return [Check(n, f"{n} to {host}", "fail", str(e), {})
                    for n in ("path", "mtu") if n in cfg.checks]
        out.append(run_checks.path(cfg, res))
        addr = res.addr
    if "mtu" in cfg.checks:
        if addr is None:
            try:
                addr = _resolve(host, cfg.version)
            except OSError as e:
                return [*out, Check("mtu", f"path MTU to {host}", "fail",
                                    f"{host}: {e.strerror or e}", {})]
        out.append(run_checks.mtu(cfg, addr, 6 if ":" in addr else 4))
    return out


def _resolve(host: str, version: int | None) -> str:
    family = {4: socket.AF_INET, 6: socket.AF_INET6}.get(version or 0, socket.AF_UNSPEC)
    info = socket.getaddrinfo(host, None, family, socket.SOCK_RAW)
    return str(info[0][4][0])
