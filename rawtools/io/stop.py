"""Ending a run cleanly: Ctrl-C, SIGTERM or a caller's request, seen by every waiter.

Every tool leaves through the same door (summary printed, pcap flushed and
closed), so a signal must never raise into the middle of a send or a write.
The handler only sets a flag; what makes the flag seen at once is a pipe:
`signal.set_wakeup_fd` has the C-level handler write to it the instant the
signal arrives, even in the gap between the last check of the flag and the
`select` that would otherwise sleep through it, and `request()` writes to
it as well. Whoever waits (the engine loop, a live capture) selects on
`fd` beside its sockets.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
from collections.abc import Iterable, Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stop:
    """A stop flag with a descriptor that turns readable when it is raised."""

    def __init__(self) -> None:
        self.requested = False
        self.signum: int | None = None
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)

    @property
    def fd(self) -> int:
        """Readable once a stop was requested (or a handled signal arrived)."""
        return self._r

    def request(self, signum: int | None = None) -> None:
        """Ask the run to end; safe from a signal handler or another thread."""
        self.requested = True
        if signum is not None:
            self.signum = signum
        with contextlib.suppress(OSError):
            os.write(self._w, b"\0")

    def exit_code(self) -> int:
        """The shell's code for a run cut short by a signal: 128 + its number.

        130 for Ctrl-C (SIGINT) and 143 for SIGTERM, as for a C tool killed by
        it, so a script or a service manager can tell a user's Ctrl-C from a
        termination; a stop requested without a signal counts as Ctrl-C.
        """
        return 128 + (self.signum if self.signum is not None else signal.SIGINT)

    def sleep(self, seconds: float) -> None:
        """Sleep `seconds`, or less if a stop is requested meanwhile."""
        if not self.requested:
            select.select([self._r], [], [], seconds)

    @contextlib.contextmanager
    def on_signals(self, signums: Iterable[int] = SIGNALS) -> Iterator[Stop]:
        """Within the block, these signals request a stop instead of killing or raising."""

        def handler(signum: int, _frame: object) -> None:
            self.request(signum)

        old_fd = signal.set_wakeup_fd(self._w, warn_on_full_buffer=False)
        old = {s: signal.signal(s, handler) for s in signums}
        try:
            yield self
        finally:
            signal.set_wakeup_fd(old_fd)
            for s, h in old.items():
                signal.signal(s, h)

    def close(self) -> None:
        for fd in (self._r, self._w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> Stop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def killable(signums: Iterable[int] = SIGNALS) -> Iterator[None]:
    """Within the block, these signals end the process at once, as they end a C program.

    For a long C call that holds the interpreter while nothing needs cleaning
    up yet (libpcap compiling a filter of a thousand terms takes a minute):
    Python would act on Ctrl-C only once the call returned. The process dies
    of the signal, as tcpdump does then (the shell says 130). Main thread only.
    """
    old = {s: signal.signal(s, signal.SIG_DFL) for s in signums}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
