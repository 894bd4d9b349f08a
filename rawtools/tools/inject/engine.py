"""The inject state machine: which frames of a capture leave when.

Sans-I/O like every engine here (`rawtools.engine`): it is told the time and
answers with the frames due by then, so the pacing is unit-tested on a
virtual clock and the live run makes the very same decisions.

Why it is shaped this way:

- Every frame's `Send` is built once, when the engine is made, and a poll
  hands out a slice of that list. At half a million frames a second the
  budget is two microseconds a frame, and building objects per frame per
  loop would spend it; a transport can also recognise a slice of the same
  list and send its precomputed images in one copy (`rawtools.io.txring`).
- Due times are absolute, start + offset, never "previous send + gap": a
  late wake-up sends what fell due as one burst and the rate catches up
  instead of drifting. `--pps` uses exact fractions, so frame 1,000,000 at
  `--pps 3` is due at exactly 333,333.333... seconds, rounded up to the
  nanosecond.
- Recorded offsets are made non-decreasing: a capture whose timestamps step
  back (merged files, clock adjustments) sends such a frame right after its
  predecessor rather than out of order.
- A burst never crosses the end of the capture (a loop boundary), so each
  is one contiguous slice of the frame list.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from fractions import Fraction
from itertools import accumulate
from typing import Literal

from rawtools.engine import Received, Send
from rawtools.tools.inject.events import InjectEvent, Progress
from rawtools.values import frozen

NS = 1_000_000_000
BURST = 1024
"""Frames handed out by one poll at most: one ring flush at top speed."""

Pacing = Literal["recorded", "pps", "topspeed"]


@frozen
class InjectOptions:
    """How fast and how much: the pacing, its figure, loops and a frame limit.

    `speed` divides the recorded gaps (pacing "recorded"); `pps` is the
    fixed rate (pacing "pps"); `loops` 0 repeats until stopped or `count`
    frames have gone.
    """

    pacing: Pacing = "recorded"
    speed: float = 1.0
    pps: float = 1.0
    loops: int = 1
    count: int | None = None
    burst: int = BURST
    progress_ns: int = NS


class InjectEngine:
    """Sends the picked frames of a capture, paced, looped, limited."""

    def __init__(self, frames: Sequence[tuple[int, bytes]], opts: InjectOptions,
                 keep: Callable[[bytes], bool] | None = None) -> None:
        """`frames` are (timestamp ns, frame) in capture order; `keep` picks (a BPF)."""
        picked = frames if keep is None else [(ts, f) for ts, f in frames if keep(f)]
        self.opts = opts
        self.frames = len(frames)
        self.matched = len(picked)
        self.sends = [Send("", f) for _, f in picked]
        self._cum = [0, *accumulate(len(f) for _, f in picked)]
        first = picked[0][0] if picked else 0
        offsets = list(accumulate((ts - first for ts, _ in picked), max))
        self._span = offsets[-1] if offsets else 0
        self._due = offsets if opts.speed == 1 else [int(o / opts.speed) for o in offsets]
        self._rate = Fraction(opts.pps)
        limit = self.matched * opts.loops if opts.loops else None
        if opts.count is not None:
            limit = opts.count if limit is None else min(limit, opts.count)
        self._limit = 0 if not picked else limit
        self._next = 0
        self._events: list[InjectEvent] = []
        self._done = self._limit == 0
        self.stopped = False
        self.packets = 0
        self.start_ns: int | None = None
        self.last_ns: int | None = None
        self._next_progress = 0

    # -- figures ------------------------------------------------------------
    def bytes_of(self, packets: int) -> int:
        """Bytes in the first `packets` frames sent (loops included)."""
        n = len(self.sends)
        if not n:
            return 0
        loops, rest = divmod(packets, n)
        return loops * self._cum[n] + self._cum[rest]

    @property
    def bytes(self) -> int:
        return self.bytes_of(self.packets)

    @property
    def elapsed_ns(self) -> int:
        """From the first poll (when the first frame was due) to the last frame sent."""
        if self.start_ns is None or self.last_ns is None:
            return 0
        return max(0, self.last_ns - self.start_ns)

    @property
    def loop(self) -> int:
        """The loop under way, from 1."""
        return self._next // len(self.sends) + 1 if self.sends else 0

    @property
    def passes(self) -> int:
        """Passes over the capture begun: whole loops, and the one cut short by -c or a stop."""
        return -(-self._next // len(self.sends)) if self.sends else 0

    # -- pacing -------------------------------------------------------------
    def _loop_offset(self, loop: int) -> int:
        if self.opts.speed == 1:
            return loop * self._span
        return int(loop * self._span / self.opts.speed)

    def _due_ns(self, j: int) -> int:
        """When frame number `j` of the run (loops counted) is due."""
        assert self.start_ns is not None
        # if/elif, not match: the mutation tester's parser (parso) predates match.
        if self.opts.pacing == "topspeed":
            return self.start_ns
        if self.opts.pacing == "pps":
            return self.start_ns + math.ceil(j * NS / self._rate)
        n = len(self.sends)
        return self.start_ns + self._loop_offset(j // n) + self._due[j % n]

    def _due_until(self, now: int, i: int, end: int) -> int:
        """The index past the last frame of i..end-1 due by `now`."""
        assert self.start_ns is not None
        if self.opts.pacing == "topspeed":
            return end
        if self.opts.pacing == "pps":
            due = (now - self.start_ns) * self._rate // NS + 1  # frames 0..due-1
            return i + max(0, min(end - i, int(due) - self._next))
        base = self.start_ns + self._loop_offset(self._next // len(self.sends))
        return bisect_right(self._due, now - base, i, end)

    def _progress(self, now: int) -> None:
        step = self.opts.progress_ns
        if now < self._next_progress:
            return
        self._events.append(Progress(now, self.packets, self.bytes, self.elapsed_ns, self.loop))
        self._next_progress += step * ((now - self._next_progress) // step + 1)

    # -- engine interface (rawtools.engine.Engine) -----------------------------
    @property
    def done(self) -> bool:
        return self._done

    def poll(self, now_ns: int) -> list[Send]:
        if self._done:
            return []
        if self.start_ns is None:
            self.start_ns = now_ns
            self._next_progress = now_ns + self.opts.progress_ns
        self._progress(now_ns)
        j, n = self._next, len(self.sends)
        i = j % n
        end = min(n, i + self.opts.burst)
        if self._limit is not None:
            end = min(end, i + self._limit - j)
        k = self._due_until(now_ns, i, end)
        if k <= i:
            return []
        self._next = j + k - i
        if self._limit is not None and self._next >= self._limit:
            self._done = True  # the loop sends this last burst, then ends
        return self.sends[i:k]

    def sent(self, send: Send, ts_ns: int) -> None:
        self.packets += 1
        self.last_ns = ts_ns

    def received(self, pkt: Received) -> None:
        """Nothing is read while injecting; present for the contract."""

    def next_deadline(self) -> int | None:
        if self._done:
            return None
        if self.start_ns is None:
            return 0  # not started: poll at once
        return min(self._due_ns(self._next), self._next_progress)

    def take_events(self) -> list[InjectEvent]:
        ev, self._events = self._events, []
        return ev

    def stop(self, now_ns: int) -> None:
        if not self._done:
            self.stopped = True
            self._done = True
