"""The event loop of `rawtools.io.loop`, driven by asyncio's: readers and timers, no threads.

The engines are sans-I/O, so asyncio needs no engine of its own: the
running loop watches the transport's sockets (`add_reader`), each callback
drains its socket into the engine at once, and the engine's next deadline
is a timeout on one wait. Sends are issued before every wait, events are
handed over after every step, exactly as the blocking loop does; only who
waits differs. A recording never waits (its clock is virtual), so a replay
runs the blocking loop unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from rawtools.engine import Received
from rawtools.io.loop import Recorder, SelectorWait, finished, run

if TYPE_CHECKING:
    from rawtools.engine import Engine, Transport
    from rawtools.io.loop import Ending

E = TypeVar("E")


async def run_async(engine: Engine[E], transport: Transport, recorder: Recorder | None = None,
                    stop: asyncio.Event | None = None,
                    on_event: Callable[[E], None] | None = None) -> Ending:
    """Drive `engine` from the running asyncio loop until it is done or `stop` is set.

    Cancelling the task ends the engine at once (its figures get an end)
    and the cancellation goes on up; the caller closes the transport.
    """
    if not isinstance(transport, SelectorWait):
        return run(engine, transport, recorder, None, on_event)
    d = _Driver(engine, transport, recorder, on_event)
    with d.watching(transport, stop):
        while not engine.done:
            if stop is not None and stop.is_set():
                return "stopped"
            d.send_due()
            if finished(engine):
                break
            await d.wait()
    return "done"


class _Driver:
    """One engine's packets and events between asyncio's callbacks and the engine."""

    def __init__(self, engine: Engine[E], transport: Transport, recorder: Recorder | None,
                 on_event: Callable[[E], None] | None) -> None:
        self.engine: Engine[Any] = engine
        self.transport = transport
        self.recorder = recorder
        self.on_event: Callable[[Any], None] | None = on_event
        self.woken = asyncio.Event()

    def flush(self) -> None:
        for ev in self.engine.take_events():
            if self.on_event is not None:
                self.on_event(ev)

    def readable(self, drain: Callable[[], list[Received]]) -> None:
        """A socket turned readable: its datagrams go to the engine now, in arrival order."""
        for pkt in drain():
            if self.recorder:
                self.recorder.add(pkt.ts_ns, pkt.packet)
            self.engine.received(pkt)
        self.woken.set()

    def send_due(self) -> None:
        for send in self.engine.poll(time.time_ns()):
            ts, wire = self.transport.send(send)
            self.engine.sent(send, ts)
            if self.recorder:
                self.recorder.add(ts, wire)
        self.flush()

    async def wait(self) -> None:
        """Until a socket has data, the engine's next deadline, or a stop."""
        deadline = self.engine.next_deadline()
        timeout = None if deadline is None else max(0.0, (deadline - time.time_ns()) / 1e9)
        self.woken.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.woken.wait(), timeout)
        self.flush()

    @contextlib.contextmanager
    def watching(self, transport: SelectorWait, stop: asyncio.Event | None) -> Iterator[None]:
        """The sockets (and `stop`) wake the driver; on the way out, the engine is ended."""
        loop = asyncio.get_running_loop()
        fds = [(key.fd, key.data) for key in transport.selector.get_map().values()
               if key.data is not None]
        for fd, drain in fds:
            loop.add_reader(fd, self.readable, drain)
        stopper = asyncio.ensure_future(stop.wait()) if stop is not None else None
        if stopper is not None:
            stopper.add_done_callback(lambda _f: self.woken.set())
        try:
            yield
        finally:
            for fd, _ in fds:
                loop.remove_reader(fd)
            if stopper is not None:
                stopper.cancel()
            if not self.engine.done:
                self.engine.stop(time.time_ns())
            self.flush()
