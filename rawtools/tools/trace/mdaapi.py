"""`rawtools.trace_mda()`: every path through load balancers, as `trace --mda` finds them.

A function of its own rather than `trace(mda=True)`: a multipath trace is
not a list of probe slots per hop but sets of interfaces and the links
between them, so it returns its own dataclass, and `trace()` keeps one
return type that scripts and type checkers can rely on. Both check their
arguments through the same `trace_config`, as the CLI does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rawtools.tools.trace.config import trace_config
from rawtools.tools.trace.mda import Interface, Link, MdaHop, stopping_point
from rawtools.tools.trace.mdasession import MdaResult, execute_mda

if TYPE_CHECKING:
    from rawtools.engine import SocketKind
    from rawtools.wire.probes import Method

__all__ = ["Interface", "Link", "MdaHop", "MdaResult", "stopping_point", "trace_mda"]


def trace_mda(host: str, method: Method | None = None, version: int | None = None,
              first_ttl: int = 1, max_ttl: int | None = None, wait: float = 5.0,
              inflight: int = 16, pause: float = 0.0, port: int | None = None,
              source: str | None = None, interface: str | None = None,
              mechanism: SocketKind | None = None, confidence: int = 95,
              record: str | None = None) -> MdaResult:
    """Trace every path to `host` through per-flow load balancers (Multipath Detection Algorithm).

    Arguments mirror `trace --mda`'s flags (-I/-T via `method`, -m, -f, -w,
    -N `inflight`, -z `pause`, -p, -s, -i `interface`, --socket
    `mechanism`, --confidence, --record); times in seconds. UDP flows differ
    in their destination port from `port` up, TCP flows in their source
    port, ICMP flows in their checksum. Raises `rawtools.errors.UsageError`
    for values the CLI would refuse and other `RawtoolsError` subclasses for
    unknown hosts or missing rights.
    """
    cfg = trace_config(host, method=method, version=version, first_ttl=first_ttl,
                       max_ttl=max_ttl, wait=wait, inflight=inflight, pause=pause, port=port,
                       source=source, interface=interface, mechanism=mechanism,
                       record=record, mda=True, confidence=confidence)
    return execute_mda(cfg)
