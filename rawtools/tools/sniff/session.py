"""A capture as a script holds it: packets to iterate, then the kernel's counts.

`rawtools.sniff()` returns a `SniffSession`. Iterating it opens the capture
(so a `for` loop is all most scripts need), yields `SniffedPacket`s, and
ends at the count, the timeout, the stop condition or the end of a file;
`stats` then holds what tcpdump prints at the end (received by the filter,
dropped by the kernel and by the interface). A generator could only return
those counts through StopIteration, which a `for` loop throws away.

With `write`, each packet is written to the pcap (or pcapng) file just
before it is yielded and the file is flushed after every batch the capture
hands over, before the next wait: the file holds exactly the packets the
script saw, and stays a valid capture when the script is interrupted.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, Self

from rawtools.io.capture import CaptureSource, CaptureStats, Packet, Wait
from rawtools.values import field, frozen, mutable
from rawtools.wire import link

if TYPE_CHECKING:
    import asyncio

    from rawtools.tools.sniff.decode import Decoder
    from rawtools.tools.sniff.output import CaptureWriter

# Live handles report platform DLT values; files need the LINKTYPE number.
DLT_TO_LINKTYPE = {link.DLT_RAW: link.LINKTYPE_RAW, link.DLT_RAW_OPENBSD: link.LINKTYPE_RAW}


@mutable
class SniffedPacket:
    """One captured packet: timestamp (ns since the epoch), bytes, wire length."""

    __slots__ = ("__dict__",)  # where the decoded forms below are cached, once asked for

    ts_ns: int
    data: bytes
    orig_len: int
    linktype: int
    _decoder: Decoder = field(repr=False, compare=False)

    @cached_property
    def summary(self) -> str:
        """tcpdump's one-line description, without the timestamp."""
        return self._decoder.line(self.ts_ns, self.data, self.orig_len)

    @cached_property
    def fields(self) -> dict[str, Any]:
        """The decoded fields, as `rawtools sniff --json` prints them."""
        return self._decoder.record(self.ts_ns, self.data, self.orig_len)


def open_writer(path: str, source: CaptureSource, *, pcapng: bool = False, size: int = 0,
                seconds: int = 0, files: int | None = None) -> CaptureWriter:
    """The -w writer for `source`: its link type and snapshot length, its counters."""
    # Imported here: it brings dpkt, which nothing else on the printing path needs.
    from rawtools.tools.sniff.output import CaptureWriter

    linktype = DLT_TO_LINKTYPE.get(source.linktype, source.linktype)
    return CaptureWriter(path, linktype, source.snaplen, pcapng=pcapng, size=size,
                         seconds=seconds, files=files,
                         if_name=source.name if source.live else None, stats=source.stats)


@frozen
class SessionOptions:
    """When a session ends and where its packets go; values checked by `sniff()`."""

    count: int = 0
    timeout_ns: int | None = None
    until: Callable[[], object] | None = None
    write: str | None = None
    pcapng: bool = False
    numeric: bool = True
    verbose: int = 0


class SniffSession:
    """Packets of one capture, then its statistics; also a context manager.

        with rawtools.sniff("eth0", "icmp", timeout=5, write="icmp.pcap") as cap:
            for pkt in cap:
                print(pkt.summary)
        print(cap.captured, cap.stats)

    Nothing is opened until the first packet is asked for. `close()` (or
    leaving the `with` block, or the loop reaching its end) closes the
    capture and the file; a loop left by `break` keeps them open until then.
    """

    def __init__(self, opener: Callable[[], CaptureSource], options: SessionOptions) -> None:
        self._opener = opener
        self._options = options
        self._source: CaptureSource | None = None
        self._final: CaptureStats | None = None
        self.captured = 0
        """Packets yielded so far (and written, with `write`)."""
        self._packets = self._run()

    @property
    def stats(self) -> CaptureStats | None:
        """The kernel's counters: as they stand while open, as they ended once closed.

        None before the capture is opened and for a file, which has none.
        """
        return self._source.stats() if self._source is not None else self._final

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> SniffedPacket:
        return next(self._packets)

    def close(self) -> None:
        """End the capture now: file flushed and closed, final statistics kept."""
        self._packets.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> Generator[SniffedPacket]:
        o = self._options
        with self._opened() as (source, emit):
            for batch in source.batches(o.count, timeout_ns=o.timeout_ns, until=o.until):
                yield from emit(batch)

    def __aiter__(self) -> AsyncIterator[SniffedPacket]:
        """`async for`: the same capture, waited for on the running asyncio loop."""
        return self._arun()

    async def _arun(self) -> AsyncIterator[SniffedPacket]:
        import asyncio

        o = self._options
        with self._opened() as (source, emit):
            loop = asyncio.get_running_loop()
            until = o.until
            for step in source.steps(o.count, lambda: until is not None and bool(until()),
                                     o.timeout_ns, polled=until is not None):
                if isinstance(step, Wait):
                    await _readable(loop, source.fileno(), step.seconds)
                    continue
                for packet in emit(step):
                    yield packet
                await asyncio.sleep(0)  # a file reads without waiting: let others run

    @contextlib.contextmanager
    def _opened(self) -> Iterator[tuple[CaptureSource, Callable[[list[Packet]],
                                                                 Iterator[SniffedPacket]]]]:
        """The capture and the writer open; `emit(batch)` writes, counts and decodes on demand.

        Both loops (iteration and `async for`) go through here, so the file
        holds exactly what was yielded, flushed after every batch, and the
        final statistics are kept once the capture closes.
        """
        from rawtools.tools.sniff.decode import Decoder

        o = self._options
        source = self._source = self._opener()
        try:
            writer = open_writer(o.write, source, pcapng=o.pcapng) if o.write else None
            try:
                decoder = Decoder(source.linktype, numeric=o.numeric, verbose=o.verbose,
                                  ts_style="none")
                linktype = source.linktype

                def emit(batch: list[Packet]) -> Iterator[SniffedPacket]:
                    for packet in batch:
                        if writer is not None:
                            writer.write_batch([packet], flush=False)
                        self.captured += 1
                        yield SniffedPacket(*packet, linktype, decoder)
                    if writer is not None:
                        writer.flush()

                yield source, emit
            finally:
                if writer is not None:
                    writer.close()
        finally:
            self._final = source.stats()
            self._source = None
            source.close()


async def _readable(loop: asyncio.AbstractEventLoop, fd: int, seconds: float | None) -> None:
    """Until `fd` turns readable or `seconds` pass, on the running loop's reader."""
    import asyncio

    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready, seconds)
    finally:
        loop.remove_reader(fd)
