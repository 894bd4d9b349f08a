"""`rawtools.trace()`: the CLI's engine and options, results as dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

from rawtools.io.loop import Stop
from rawtools.tools.trace.engine import Counters, Hop, Probe, Timing
from rawtools.tools.trace.session import TraceConfig, execute

__all__ = ["trace", "TraceResult", "Hop", "Probe"]


@dataclass(slots=True)
class TraceResult:
    """A finished trace: `hops` of the last round, every round in `rounds`.

    `mechanism` is "raw" (answers read on raw sockets), "dgram" (error queue,
    unprivileged) or "replay".
    """

    host: str
    addr: str
    method: str
    version: int
    paris: bool
    mechanism: str
    reached: bool
    hops: list[Hop]
    rounds: list[list[Hop]]
    counters: Counters


def trace(host: str | None = None, method: str = "udp", version: int | None = None,
          first_ttl: int = 1, max_ttl: int = 30, nqueries: int = 3, wait: float = 5.0,
          inflight: int = 16, pause: float = 0.0, port: int | None = None,
          paris: bool | None = None, source: str | None = None, interface: str | None = None,
          socket_type: str | None = None, cycles: int = 1, record: str | None = None,
          replay: str | None = None) -> TraceResult:
    """Trace the route to `host` (or replay a recording) and return every hop.

    Arguments mirror the CLI flags (-I/-T via `method`, -m, -f, -q, -w, -N,
    -z, -p, --paris, -s, -i, --socket, -c). Raises
    `rawtools.errors.RawtoolsError` subclasses on bad input or missing rights.
    """
    cfg = TraceConfig(host=host, method=method, version=version, first_ttl=first_ttl,
                      max_ttl=max_ttl, nqueries=nqueries, inflight=inflight,
                      timing=Timing(wait=int(wait * 1e9), pause=int(pause * 1e9)), port=port,
                      paris=paris, source=source, device=interface, mechanism=socket_type,
                      cycles=cycles, record=record, replay=replay)
    tr = execute(cfg, stop=Stop())
    return TraceResult(tr.host, tr.spec.dst, tr.spec.method, tr.spec.version, tr.spec.paris,
                       tr.mechanism, tr.reached, tr.rounds[-1] if tr.rounds else [],
                       tr.rounds, tr.counters)
