#!/usr/bin/env python3
"""A user-space delay line: an invisible Ethernet wire with latency, jitter and loss.

The lab's kernel has no netem qdisc, so a link that needs a real path's
timing gets a namespace of its own spliced into the middle, with one veth
towards each node, and this process copies every frame from one veth to the
other, late. Both directions, any ethertype (IPv4, IPv6, ARP, neighbour
discovery, VLAN tags): the nodes see one another as on a plain wire.

Each frame is held for `delay_ms` plus a uniform random `[0, jitter_ms]`
drawn for it alone, so jitter reorders frames as it does on a real path (and
as netem does without a rate), and is dropped with probability `loss_pct`,
independently of every other frame and of its direction.

How, and why so:

* Frames are read through `rawtools.io.afpacket` (an immediate TPACKET_V2
  ring, incoming frames only): no system call per frame read, the VLAN tag a
  veth strips is put back, the frames this process sends never come back to
  it (they would loop), and each frame carries the kernel's arrival time, so
  the time the relay spends descheduled before reading does not stretch the
  delay. Frames leave through a second AF_PACKET socket per interface, bound
  to no protocol so that it receives nothing.
* The frames wait in one heap of (due time, arrival number, direction,
  frame) on `time.monotonic_ns`; the arrival number keeps frames with equal
  due times in order. `select` sleeps until just before the first is due
  (its timeout has microseconds, where poll and epoll round up to whole
  milliseconds) and the rest is spun out on the clock: how early follows
  how late the timer has been waking the relay (0.05-0.2 ms here).
* While frames are in flight, the rings are looked at (no system call) on
  every wake-up, but wake the relay only when a frame arriving could fall
  due before the next wake-up (or wait more than 10 ms): the kernel's
  arrival time keeps the delay exact anyway, and a flood costs one wake-up
  per frame due, not two.
* It runs at the lowest real-time priority where allowed: on a busy
  machine an ordinary process wakes milliseconds late (see `_realtime`).
* The relay ends on SIGTERM or SIGINT (exit 0) and when either interface
  goes down or away (exit 1), and then prints on stderr what it relayed,
  dropped and failed to relay in each direction.

    ip netns exec NS python -m rawtools.testing.delayline --a left --b right \\
        --delay-ms 25 --jitter-ms 5 --loss-pct 1 [--seed 7]

It prints `ready` on stdout once both interfaces are open.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import heapq
import os
import random
import select
import signal
import socket
import sys
import time
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

from rawtools.errors import RawtoolsError
from rawtools.values import frozen, mutable

if TYPE_CHECKING:
    from rawtools.io.afpacket import PacketCapture

# Longest delay or jitter accepted: past a minute it is a typo (seconds for
# milliseconds), and every frame would sit in memory that long.
MAX_DELAY_MS = 60_000.0
# Frames taken from one ring per wake-up, so that one busy direction cannot
# starve the other or the frames falling due.
BATCH = 256
# A kernel arrival time further than this from now is not one (a clock step,
# or a TCP departure time kept on CLOCK_MONOTONIC): the frame counts as
# arriving now.
MAX_SKEW_NS = 1_000_000_000
# How early select is asked to wake before a frame is due, to be spun out on
# the clock: it starts here and follows the timer's measured lateness, up to
# the maximum (a late wake-up under load must not make the relay spin long).
FIRST_EARLY_NS = 100_000
MAX_EARLY_NS = 500_000
# Longest a frame may wait unread in its ring while the relay sleeps towards
# a frame due: the ring (8 MiB, some 5,000 frames) must not fill, and the
# frame's arrival time must stay well within MAX_SKEW_NS of the clock.
MAX_UNREAD_NS = 10_000_000
# Errors that mean the interface is gone, which ends the relay.
GONE = {errno.ENETDOWN, errno.ENXIO, errno.ENODEV}


@frozen
class Impairment:
    """What a delay line does to each frame crossing it, in both directions.

    `delay_ms` every frame waits, plus a uniform random share of
    `jitter_ms` of its own (so frames reorder); `loss_pct` percent of frames
    are dropped, each independently; `seed` makes the draws repeatable.
    Invalid values raise ValueError here, before any namespace is built.
    """

    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    loss_pct: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name, top in (("delay_ms", MAX_DELAY_MS), ("jitter_ms", MAX_DELAY_MS),
                          ("loss_pct", 100.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number, not {value!r}")
            if not 0 <= value <= top:  # also false for nan
                raise ValueError(f"{name} must be within 0..{top:g}, not {value!r}")
        if self.seed is not None and (isinstance(self.seed, bool)
                                      or not isinstance(self.seed, int)):
            raise ValueError(f"seed must be an integer or None, not {self.seed!r}")

    def argv(self) -> list[str]:
        """The command-line options that give a relay this impairment (exact floats)."""
        out = ["--delay-ms", repr(float(self.delay_ms)), "--jitter-ms",
               repr(float(self.jitter_ms)), "--loss-pct", repr(float(self.loss_pct))]
        return out + ([] if self.seed is None else ["--seed", str(self.seed)])


class InterfaceGone(Exception):
    """An interface of the relay went down or was deleted (its lab is being torn down)."""


@mutable
class Counts:
    """Frames of one direction, by fate.

    Sent on (`relayed`), dropped by the loss draw (`dropped`), not relayable
    (`failed`: cut short, or refused by the kernel when sent), or lost by the
    kernel before the relay read them because its ring was full
    (`overflowed`: the relay was too slow, so the loss was not the one asked for).
    """

    relayed: int = 0
    dropped: int = 0
    failed: int = 0
    overflowed: int = 0

    def __str__(self) -> str:
        return (f"relayed {self.relayed} dropped {self.dropped} failed {self.failed} "
                f"overflowed {self.overflowed}")


class Relay:
    """Two interfaces, one heap of frames in flight between them."""

    def __init__(self, a: str, b: str, impairment: Impairment) -> None:
        # Imported here, not at the top, so that the lab and the pytest plugin,
        # which import this module for `Impairment`, stay free of libpcap.
        from rawtools.io.afpacket import PacketCapture

        self.names = (a, b)
        self._delay_ns = round(impairment.delay_ms * 1e6)
        self._jitter_ns = round(impairment.jitter_ms * 1e6)
        self._loss = impairment.loss_pct / 100
        self._rng = random.Random(impairment.seed)
        self.counts = (Counts(), Counts())
        self._heap: list[tuple[int, int, int, bytes]] = []
        self._seq = 0
        self._early_ns = FIRST_EARLY_NS
        self.stopping = False
        self._caps: list[PacketCapture] = []
        self._outs: list[socket.socket] = []
        try:
            for name in self.names:
                self._caps.append(PacketCapture(name, direction="in", immediate=True,
                                                buffer_kib=8192))
                out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
                self._outs.append(out)
                out.bind((name, 0))
            for cap in self._caps:
                cap.start()
        except BaseException:
            self.close()
            raise
        self._poller = select.poll()
        for cap in self._caps:
            self._poller.register(cap.fileno(), select.POLLIN)

    @property
    def queued(self) -> int:
        """Frames still waiting; at the end, those that a stop cut off."""
        return len(self._heap)

    def run(self, wake_fd: int) -> None:
        """Relay until `stopping` is set by a signal handler.

        The signal also writes a byte to `wake_fd` (signal.set_wakeup_fd):
        that ends the wait in select, which Python would otherwise resume.
        """
        rings = [cap.fileno() for cap in self._caps]
        heap, clock = self._heap, time.monotonic_ns
        while not self.stopping:
            fds, timeout, wake_at = [wake_fd, *rings], None, 0
            if heap:
                now = clock()
                wake_at = heap[0][0] - self._early_ns
                timeout = max(0, wake_at - now) / 1e9
                if wake_at <= now + min(self._delay_ns, MAX_UNREAD_NS):
                    # Whatever arrives from now on is due after that wake-up: it can
                    # wait in its ring till then, and a burst costs one wake-up, not
                    # one per frame (which, at real-time priority, would preempt the
                    # sender for every frame it sends).
                    fds = [wake_fd]
            ready, _, _ = select.select(fds, (), (), timeout)
            if not ready and timeout:
                self._learn(clock() - wake_at)
            # What the timer woke us for first, then a look at the rings (no
            # system call): what they hold is due a delay after it arrived.
            self._send_due()
            for side in (0, 1):
                if not self._take(side) and rings[side] in ready:
                    self._check_alive()
            if wake_fd in ready:
                os.read(wake_fd, 512)

    def _learn(self, late_ns: int) -> None:
        """Follow how late select's timer wakes the relay, to wake that much early.

        Up fast and down slowly, so that it settles near the latest usual
        wake-up rather than the average: a wake-up a little early costs a
        short spin, one late costs the frame's precision.
        """
        late_ns = min(max(late_ns, 0), MAX_EARLY_NS)
        if late_ns > self._early_ns:
            self._early_ns += (late_ns - self._early_ns) >> 2
        else:
            self._early_ns -= (self._early_ns - late_ns) >> 5

    def _take(self, side: int) -> int:
        """Queue what arrived on `side` for the other side, or drop it; how many arrived."""
        batch = self._caps[side].read_batch(BATCH)
        if not batch:
            return 0
        counts, heap, rnd = self.counts[side], self._heap, self._rng.random
        now = time.monotonic_ns()
        real_minus_mono = time.time_ns() - now
        for ts, frame, wire_len in batch:
            if len(frame) != wire_len:  # cut short by the ring: a merged (GRO) frame
                counts.failed += 1
                continue
            if self._loss and rnd() < self._loss:
                counts.dropped += 1
                continue
            arrived = ts - real_minus_mono
            if not now - MAX_SKEW_NS < arrived <= now:
                arrived = now
            due = arrived + self._delay_ns
            if self._jitter_ns:
                due += int(rnd() * self._jitter_ns)
            heapq.heappush(heap, (due, self._seq, side, frame))
            self._seq += 1
        return len(batch)

    def _check_alive(self) -> None:
        """A ring select called readable was empty: select reports a socket error that way."""
        for _, events in self._poller.poll(0):
            if events & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
                raise InterfaceGone("an interface went down or away")

    def _send_due(self) -> None:
        """Send what is due, spinning for a frame due sooner than a timer could wake us."""
        heap, clock = self._heap, time.monotonic_ns
        now = clock()
        if heap and now < heap[0][0] <= now + self._early_ns:
            while (now := clock()) < heap[0][0]:
                pass
        while heap and heap[0][0] <= now:
            _, _, side, frame = heapq.heappop(heap)
            try:
                self._outs[1 - side].send(frame)
            except OSError as e:
                if e.errno in GONE:
                    raise InterfaceGone(f"{self.names[1 - side]}: {e.strerror}") from None
                self.counts[side].failed += 1
            else:
                self.counts[side].relayed += 1

    def report(self) -> str:
        """One line of counts, the relay's last words on stderr."""
        for cap, counts in zip(self._caps, self.counts, strict=True):
            counts.overflowed = cap.stats().dropped
        a, b = self.names
        return (f"delayline {a}>{b}: {self.counts[0]}; {b}>{a}: {self.counts[1]}; "
                f"{self.queued} still queued")

    def close(self) -> None:
        for cap in self._caps:
            cap.close()
        for out in self._outs:
            out.close()


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (no usage block) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def _parse(argv: list[str] | None) -> tuple[argparse.Namespace, Impairment]:
    p = _Parser(prog="delayline", description="relay frames between two interfaces, "
                "late (delay plus jitter) and lossy")
    p.add_argument("--a", required=True, metavar="IF", help="one interface")
    p.add_argument("--b", required=True, metavar="IF", help="the other interface")
    p.add_argument("--delay-ms", type=float, default=0.0, help="delay of every frame")
    p.add_argument("--jitter-ms", type=float, default=0.0,
                   help="uniform extra delay of each frame, 0..this")
    p.add_argument("--loss-pct", type=float, default=0.0, help="percent of frames dropped")
    p.add_argument("--seed", type=int, help="seed of the random draws (repeatable runs)")
    args = p.parse_args(argv)
    if args.a == args.b:
        p.error("--a and --b must be two different interfaces")
    try:
        imp = Impairment(args.delay_ms, args.jitter_ms, args.loss_pct, args.seed)
    except ValueError as e:
        p.error(str(e).replace("_", "-"))
    return args, imp


def main(argv: list[str] | None = None) -> int:
    args, imp = _parse(argv)
    try:
        relay = Relay(args.a, args.b, imp)
    except (RawtoolsError, OSError) as e:
        print(f"delayline: {e}", file=sys.stderr)
        return 1

    def stop(signum: int, frame: FrameType | None) -> None:
        relay.stopping = True

    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _realtime()
    print("ready", flush=True)
    code = 0
    try:
        relay.run(wake_r)
    except InterfaceGone as e:
        _say(f"delayline: {e}")
        code = 1
    finally:
        _say(relay.report())
        relay.close()
    return code


def _realtime() -> None:
    """Take the lowest real-time priority (SCHED_FIFO 1), or say why not.

    Measured on the lab's two cores with two busy loops beside it: as an
    ordinary process, even at nice -15, the relay woke 5-10 ms late for most
    frames; at SCHED_FIFO, ahead of every ordinary process, the median round
    trip stayed 0.1 ms above twice the delay and 119 of 120 within 1 ms.
    The kernel's real-time throttling still leaves others 5 % of the CPU
    should the relay ever spin, and it sleeps whenever nothing is due sooner
    than its timer could wake it.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except OSError as e:
        _say(f"delayline: no real-time priority ({e.strerror}): delays stretch under CPU load")


def _say(line: str) -> None:
    """A line on stderr, if anyone still reads it (not so once the lab CLI that started
    this relay has exited)."""
    with contextlib.suppress(OSError):
        print(line, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
