"""`rawtools.trace()`: the CLI's engine and options, results as dataclasses."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from rawtools.errors import UsageError
from rawtools.io.stop import Stop
from rawtools.tools.trace.config import DEFAULT_GAP, trace_config
from rawtools.tools.trace.hops import Counters, Hop, Probe
from rawtools.tools.trace.report import TraceResult, build_result
from rawtools.tools.trace.session import execute

if TYPE_CHECKING:
    from rawtools.engine import SocketKind
    from rawtools.wire.probes import Method

__all__ = ["Counters", "Hop", "Probe", "TraceResult", "trace"]


def trace(host: str | None = None, method: Method | None = None, version: int | None = None,
          first_ttl: int = 1, max_ttl: int | None = None, nqueries: int = 3, wait: float = 5.0,
          inflight: int = 16, pause: float = 0.0, port: int | None = None,
          paris: bool | None = None, source: str | None = None, interface: str | None = None,
          mechanism: SocketKind | None = None, cycles: int = 1, record: str | None = None,
          replay: str | None = None, gap: int = DEFAULT_GAP,
          on_hop: Callable[[int, Hop], None] | None = None) -> TraceResult:
    """Trace the route to `host` (or replay a recording) and return every hop.

    Arguments mirror the CLI flags (-I/-T via `method`, -m, -f, -q, -w, -N
    `inflight`, -z `pause`, -p, --paris, -s, -i `interface`, --socket
    `mechanism`, -c, --gap); times in seconds. `method` (UDP by default) and
    `max_ttl` (30) left None are taken from the recording in a replay.
    `on_hop(round, hop)` is called as each hop's line completes, in TTL
    order, while the trace runs. `cycles=0` traces a round a second until
    Ctrl-C (SIGINT) or SIGTERM, as `--watch` does, and then returns every
    round (`interrupted` true, `stats` mtr's figures); signals reach only the
    main thread, so only it may ask for that.
    Raises `rawtools.errors.UsageError` for values the CLI would refuse,
    `rawtools.errors.ReplayDiverged` for a replay that parts from its
    recording, and other `rawtools.errors.RawtoolsError` subclasses for
    unknown hosts or missing rights.
    """
    cfg = trace_config(host, method=method, version=version, first_ttl=first_ttl,
                       max_ttl=max_ttl, nqueries=nqueries, wait=wait, inflight=inflight,
                       pause=pause, port=port, paris=paris, source=source, interface=interface,
                       mechanism=mechanism, cycles=cycles, record=record, replay=replay,
                       gap=gap)
    if on_hop is not None and not callable(on_hop):
        raise UsageError(f"invalid on_hop: {on_hop!r} (a callable taking a round and a Hop)")
    if cfg.cycles != 0:
        return build_result(execute(cfg, on_hop=on_hop))
    if threading.current_thread() is not threading.main_thread():
        raise UsageError("cycles=0 runs until Ctrl-C or SIGTERM, which only the main thread "
                         "receives; give a number of cycles")
    with Stop() as stop, stop.on_signals():
        return build_result(execute(cfg, on_hop=on_hop, stop=stop))
