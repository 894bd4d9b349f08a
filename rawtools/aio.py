"""rawtools for asyncio: `await aio.ping()`, `await aio.trace()`, `async for` over `aio.sniff()`.

The same sans-I/O engines as the blocking API, driven from the running
loop's readers and timers (`rawtools.io.aioloop`), never from threads
around the blocking functions: a thousand concurrent pings are a thousand
tasks on one loop. Arguments, checks and results are the blocking API's
(`rawtools.ping`, `rawtools.trace`, `rawtools.sniff`); each coroutine adds
`on_event`/`on_hop` for streaming and `stop`, an asyncio.Event that ends
the run with its results so far (cancelling the task ends it too, without
results). Opening sockets and resolving names happen before the first
await, as in the blocking calls.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from rawtools.errors import UsageError
from rawtools.io.aioloop import run_async
from rawtools.tools.ping.api import PingResult
from rawtools.tools.ping.config import ping_config
from rawtools.tools.ping.events import PingEvent
from rawtools.tools.ping.report import build_result as ping_result
from rawtools.tools.ping.session import prepare as prepare_ping
from rawtools.tools.sniff.api import sniff
from rawtools.tools.trace.config import DEFAULT_GAP, trace_config
from rawtools.tools.trace.hops import Hop
from rawtools.tools.trace.report import TraceResult
from rawtools.tools.trace.report import build_result as trace_result
from rawtools.tools.trace.session import Rounds
from rawtools.tools.trace.session import prepare as prepare_trace

if TYPE_CHECKING:
    from rawtools.engine import SocketKind
    from rawtools.wire.probes import Method

__all__ = ["ping", "sniff", "trace"]


def _callable(name: str, value: object, what: str) -> None:
    if value is not None and not callable(value):
        raise UsageError(f"invalid {name}: {value!r} ({what})")


def _event(stop: object) -> None:
    if stop is not None and not isinstance(stop, asyncio.Event):
        raise UsageError(f"invalid stop: {stop!r} (an asyncio.Event)")


async def ping(*hosts: str, count: int | None = None, interval: float | None = None,
               size: int | None = None, ttl: int | None = None, timeout: float | None = None,
               deadline: float | None = None, sweep: str | None = None,
               version: int | None = None, interface: str | None = None,
               pattern: bytes | str | None = None, retries: int = 2,
               mechanism: SocketKind | None = None, record: str | None = None,
               replay: str | None = None, broadcast: bool = False,
               on_event: Callable[[PingEvent], None] | None = None,
               stop: asyncio.Event | None = None) -> PingResult:
    """`rawtools.ping` on the running loop; `on_event` gets each reply and error as it comes."""
    _callable("on_event", on_event, "a callable taking a ping event")
    _event(stop)
    multi = bool(sweep) or len(hosts) > 1
    if count is None and deadline is None and not multi and replay is None and stop is None:
        count = 3  # as the blocking API: one host would otherwise be pinged forever
    cfg = ping_config(hosts, count=count, interval=interval, size=size, ttl=ttl,
                      timeout=timeout, deadline=deadline, sweep=sweep, version=version,
                      interface=interface, pattern=pattern, retries=retries,
                      mechanism=mechanism, record=record, replay=replay, broadcast=broadcast)
    p = prepare_ping(cfg)
    try:
        ending = await run_async(p.engine, p.transport, p.recorder, stop, on_event)
    finally:
        p.close()
    return ping_result(p.conclude(ending))


async def trace(host: str | None = None, method: Method | None = None,
                version: int | None = None, first_ttl: int = 1, max_ttl: int | None = None,
                nqueries: int = 3, wait: float = 5.0, inflight: int = 16, pause: float = 0.0,
                port: int | None = None, paris: bool | None = None, source: str | None = None,
                interface: str | None = None, mechanism: SocketKind | None = None,
                cycles: int = 1, record: str | None = None, replay: str | None = None,
                gap: int = DEFAULT_GAP, on_hop: Callable[[int, Hop], None] | None = None,
                stop: asyncio.Event | None = None) -> TraceResult:
    """`rawtools.trace` on the running loop; `cycles=0` runs rounds until `stop` is set."""
    _callable("on_hop", on_hop, "a callable taking a round and a Hop")
    _event(stop)
    cfg = trace_config(host, method=method, version=version, first_ttl=first_ttl,
                       max_ttl=max_ttl, nqueries=nqueries, wait=wait, inflight=inflight,
                       pause=pause, port=port, paris=paris, source=source,
                       interface=interface, mechanism=mechanism, cycles=cycles,
                       record=record, replay=replay, gap=gap)
    if cfg.cycles == 0 and stop is None:
        raise UsageError("cycles=0 runs until stop is set: give stop=asyncio.Event()")
    p = prepare_trace(cfg)
    try:
        rounds = Rounds(cfg, p.spec, p.transport, p.result, on_hop)
        while (step := rounds.next()) is not None:
            engine, gap_s = step
            if gap_s and stop is not None:
                await _sleep_unless(stop, gap_s)
            elif gap_s:
                await asyncio.sleep(gap_s)
            if stop is not None and stop.is_set():
                p.result.interrupted = True
                break
            ending = await run_async(engine, p.transport, p.recorder, stop, rounds.hop_done)
            if not rounds.ended(engine, ending):
                break
        rounds.finish()
    finally:
        p.close()
    return trace_result(p.result)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less once `stop` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
