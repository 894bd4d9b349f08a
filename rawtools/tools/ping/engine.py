"""The ping state machine: when to send, what a reply means, when to stop.

It follows iputils ping's rules so that users' habits carry over: sequence
numbers from 1, `-c` stops once count answers (replies or errors) are in,
after the last probe it lingers `max(2*rtt_max, interval)` if anything was
heard or `-W` (10 s) if nothing was, `-w` is a hard deadline. With several
targets (or a sweep) it probes them all from one socket, interleaved,
fping-style, retrying silent targets before calling them unreachable.

The engine is sans-I/O: it is given times and datagrams and answers with
probes to send and events to report, so the same code runs live, from a
recording and in unit tests.
"""

from __future__ import annotations

import heapq
import math
import struct
from collections.abc import Mapping

from rawtools.engine import Received, Send
from rawtools.tools.ping.events import (
    Alive,
    Corrupt,
    NoRoute,
    Outstanding,
    PingEvent,
    Reply,
    RouterError,
    Sent,
    Unreachable,
)
from rawtools.values import field, frozen, mutable
from rawtools.wire.icmp import Icmp, Quote, build_echo, parse_ip
from rawtools.wire.ip import PROTO_ICMP, PROTO_ICMP6

NS = 1_000_000_000
MS = 1_000_000


@mutable
class PingOptions:
    """Everything that shapes a run; times in nanoseconds."""

    count: int | None = None
    interval_ns: int = NS
    size: int = 56
    ttl: int | None = None
    linger_ns: int = 10 * NS
    timeout_ns: int | None = None
    deadline_ns: int | None = None
    pattern: bytes = b""
    flood: bool = False
    report_outstanding: bool = False
    multi: bool = False
    retries: int = 2
    spacing_ns: int = MS


@mutable
class Target:
    """One destination and its tally.

    `no_route` is the kernel's reason when it has no route to `addr` (set
    before the run, by whoever asked the kernel): such a target is never
    probed, and a sweep does not wait for it.
    """

    addr: str
    name: str
    index: int = 0
    transmitted: int = 0
    received: int = 0
    duplicates: int = 0
    errors: int = 0
    corrupted: int = 0
    rtts_ns: list[int] = field(default_factory=list)
    dup_rtts_ns: list[int] = field(default_factory=list)
    clocks: dict[str, int] = field(default_factory=dict)
    probes_left: int = 0
    next_send_ns: int = 0
    errors_seen: list[tuple[int, Icmp]] = field(default_factory=list)
    no_route: str | None = None

    @property
    def version(self) -> int:
        return 6 if ":" in self.addr else 4

    @property
    def stat_rtts_ns(self) -> list[int]:
        """The samples iputils' min/avg/max/mdev are taken over: replies and duplicates."""
        return self.rtts_ns + self.dup_rtts_ns

    @property
    def loss_pct(self) -> float:
        if not self.transmitted:
            return 0.0
        return 100.0 * (self.transmitted - self.received) / self.transmitted


@mutable
class Probe:
    """An echo request in flight (or answered): what a reply's seq leads to."""

    target: Target
    seq: int
    number: int
    sent_ns: int = 0
    answered: bool = False


def make_fill(size: int, pattern: bytes) -> bytes:
    """iputils' echo data before the timestamp goes in.

    Without -p the byte at offset i is i & 0xff; with -p the pattern repeats
    from offset 0 (and the timeval then overwrites its start, as in iputils).
    """
    if pattern:
        return (pattern * (size // len(pattern) + 1))[:size]
    return bytes(i & 0xFF for i in range(size))


def make_payload(fill: bytes, now_ns: int) -> bytes:
    """The echo data of one probe: a struct timeval first, when it fits."""
    if len(fill) < 16:
        return fill
    sec, nsec = divmod(now_ns, NS)
    return struct.pack("=qq", sec, nsec // 1000) + fill[16:]


class PingEngine:
    """Probes one or many targets with echo requests, one identifier per IP version.

    `idents` maps each version the targets use to the identifier its socket
    sends (the kernel picks it on a datagram socket); `ident` is the first
    target's, the one the CLI names.
    """

    def __init__(self, targets: list[Target], opts: PingOptions,
                 idents: Mapping[int, int]) -> None:
        self.targets = targets
        self.opts = opts
        self.idents = dict(idents)
        self.ident = self.idents[targets[0].version] if targets else 0
        self.events: list[PingEvent] = []
        self.probes: dict[int, Probe] = {}
        self.next_seq = 1
        self.start_ns: int | None = None
        self.first_sent_ns: int | None = None
        self.last_sent_ns: int | None = None
        self.end_ns: int | None = None
        self.linger_until: int | None = None
        self.linger_wait: int | None = None
        self._done = False
        self.max_rtt_ns = 0
        self.pipe = 0
        self.outstanding = 0
        self.total_received = 0
        self.total_errors = 0
        self.answered_targets = 0
        # (due time, target index); an entry whose time is no longer the
        # target's next_send_ns is stale and skipped. A heap keeps a /16 sweep
        # linear: each poll touches only the targets that are due.
        self.queue: list[tuple[int, int]] = []
        self.fill = make_fill(opts.size, opts.pattern)
        self.routeless = 0
        for i, t in enumerate(targets):
            t.index = i
            t.probes_left = opts.count if opts.count is not None else (1 if opts.multi else -1)
            if t.no_route is not None:
                t.probes_left = 0
                self.routeless += 1

    # -- helpers ----------------------------------------------------------
    def _schedule(self, t: Target, at_ns: int) -> None:
        t.next_send_ns = at_ns
        heapq.heappush(self.queue, (at_ns, t.index))

    def _head(self) -> tuple[int, int] | None:
        """The next live queue entry, dropping stale ones."""
        q = self.queue
        while q:
            due, i = q[0]
            t = self.targets[i]
            if t.probes_left != 0 and t.next_send_ns == due:
                return q[0]
            heapq.heappop(q)
        return None

    def _finish(self, at_ns: int) -> None:
        if not self._done:
            self._done = True
            self.end_ns = at_ns

    def _all_sent(self) -> bool:
        return self._head() is None

    def _answer(self, probe: Probe) -> None:
        probe.answered = True
        self.outstanding -= 1

    def _everyone_settled(self) -> bool:
        """Several targets: each answered or has no route, and every probe is out.

        With `-c` every probe's answer is awaited too (or the linger's
        timeout): a count asks for each probe's fate, and stopping at the
        first answer of each target dropped a last reply already on its way.
        """
        return (self.opts.multi and self.answered_targets + self.routeless == len(self.targets)
                and self._all_sent() and (self.opts.count is None or self.outstanding == 0))

    def _answered_enough(self) -> bool:
        """iputils' `-c` exit: as many answers (replies + errors) as probes."""
        if self.opts.multi or self.opts.count is None:
            return False
        return self.total_received + self.total_errors >= self.opts.count

    # -- engine interface (rawtools.engine.Engine) -------------------------
    @property
    def done(self) -> bool:
        return self._done

    def stop(self, now_ns: int) -> None:
        self._finish(now_ns)

    def poll(self, now: int) -> list[Send]:
        if self.start_ns is None:
            self.start_ns = now
            for i, t in enumerate(self.targets):
                if t.no_route is not None:
                    self.events.append(NoRoute(t, now, t.no_route))
                else:
                    self._schedule(t, now + i * self.opts.spacing_ns)
        o = self.opts
        if o.deadline_ns is not None and now >= self.start_ns + o.deadline_ns:
            self._finish(self.start_ns + o.deadline_ns)
            return []
        if self.linger_until is not None and now >= self.linger_until:
            self._retry_or_finish(now)
            if self.done:
                return []
        sends: list[Send] = []
        while (head := self._head()) is not None and head[0] <= now:
            due, i = heapq.heappop(self.queue)
            t = self.targets[i]
            sends.append(self._probe(t, now))
            if t.probes_left > 0:
                t.probes_left -= 1
            if t.probes_left != 0:
                nxt = due + o.interval_ns
                self._schedule(t, nxt if nxt >= now else now + (0 if o.multi else o.interval_ns))
            if o.multi:
                break  # one probe per poll keeps targets spaced apart
        if self._all_sent() and self.linger_until is None:
            if self.routeless == len(self.targets):  # nothing was sent, nothing to await
                self._finish(now)
                return sends
            self._schedule_linger(now)
        return sends

    def _probe(self, t: Target, now: int) -> Send:
        seq = self.next_seq
        self.next_seq = (self.next_seq + 1) & 0xFFFF
        if self.opts.report_outstanding and not self.opts.multi:
            prev = self.probes.get((seq - 1) & 0xFFFF)
            if prev is not None and not prev.answered:
                self.events.append(Outstanding(t, prev.seq, now))
        t.transmitted += 1
        probe = Probe(t, seq, t.transmitted - 1, now)
        old = self.probes.get(seq)
        if old is not None and not old.answered:
            self.outstanding -= 1  # 65536 probes later its sequence number is reused
        self.probes[seq] = probe
        self.outstanding += 1
        data = build_echo(t.version, self.idents[t.version], seq, make_payload(self.fill, now))
        self.pipe = max(self.pipe, self.outstanding)
        return Send(t.addr, data, ttl=self.opts.ttl, meta=probe)

    def _schedule_linger(self, now: int) -> None:
        o = self.opts
        if o.multi:
            wait = o.timeout_ns if o.timeout_ns is not None else NS // 2
        elif self.total_received:
            wait = max(2 * self.max_rtt_ns, o.interval_ns)
        else:
            wait = o.linger_ns
        if o.deadline_ns is not None and not o.multi:
            return  # with -w, the deadline alone ends the run
        # Counted from the last probe's real send time (see `sent`), which a
        # replay reproduces exactly, rather than from when the loop woke up.
        self.linger_wait = wait
        self.linger_until = (self.last_sent_ns or now) + wait

    def _retry_or_finish(self, now: int) -> None:
        """After the linger: retry silent targets (multi-target), else stop."""
        if self.opts.multi:
            silent = [t for t in self.targets
                      if t.received == 0 and t.errors == 0 and t.no_route is None]
            # fping's habit: without -c a silent target is retried before it
            # is called unreachable; with -c the count is what the user asked.
            most = 1 + self.opts.retries if self.opts.count is None else self.opts.count
            retry = [t for t in silent if t.transmitted < most]
            if retry:
                for i, t in enumerate(retry):
                    t.probes_left = 1
                    self._schedule(t, now + i * self.opts.spacing_ns)
                self.linger_until = self.linger_wait = None
                return
            for t in silent:
                self.events.append(Unreachable(t, now))
        self._finish(self.linger_until if self.linger_until is not None else now)

    def sent(self, send: Send, ts_ns: int) -> None:
        probe: Probe = send.meta
        probe.sent_ns = ts_ns
        if self.first_sent_ns is None:
            self.first_sent_ns = ts_ns
        self.last_sent_ns = ts_ns
        if self.linger_until is not None and self.linger_wait is not None:
            self.linger_until = ts_ns + self.linger_wait
        if self.opts.flood:
            self.events.append(Sent(probe.target, probe.seq, ts_ns))

    def received(self, pkt: Received) -> None:
        if self._done:
            return  # read in the same batch as the last awaited answer: iputils stops there
        icmp = parse_ip(pkt.packet)
        if icmp is None:
            return
        if icmp.kind == "echo-reply":
            self._on_reply(icmp, pkt)
        elif icmp.quote is not None:
            self._on_error(icmp, icmp.quote, pkt)
        o = self.opts
        everyone = self._everyone_settled()
        # iputils: with -w, the first error ends the run.
        first_error = o.deadline_ns is not None and not o.multi and self.total_errors > 0
        if self._answered_enough() or everyone or first_error:
            self._finish(pkt.ts_ns)

    def _on_reply(self, icmp: Icmp, pkt: Received) -> None:
        if icmp.seq is None or icmp.ident is None or self.idents.get(icmp.version) != icmp.ident:
            return  # another process's ping
        probe = self.probes.get(icmp.seq)
        if probe is None:
            return
        t = probe.target
        if not icmp.cksum_ok:
            t.corrupted += 1
            self.events.append(Corrupt(t, probe.seq, pkt.ts_ns, icmp))
            return
        rtt = max(0, pkt.ts_ns - probe.sent_ns)
        dup = probe.answered
        if dup:
            t.duplicates += 1
            t.dup_rtts_ns.append(rtt)  # iputils sums a duplicate's RTT into the statistics
        else:
            self._answer(probe)
            if not t.received and not t.errors:
                self.answered_targets += 1
            t.received += 1
            self.total_received += 1
            t.rtts_ns.append(rtt)
            t.clocks[pkt.clock] = t.clocks.get(pkt.clock, 0) + 1
            self.max_rtt_ns = max(self.max_rtt_ns, rtt)
            if self.opts.multi and t.received == 1:
                self.events.append(Alive(t, probe.seq, pkt.ts_ns, icmp.src))
        self.events.append(Reply(t, probe.seq, pkt.ts_ns, icmp, rtt, pkt.clock, dup,
                                 probe.number))
        if self.opts.multi and not dup:
            t.probes_left = 0 if self.opts.count is None else t.probes_left
        # Flood sends the next probe as soon as the last one is answered.
        if self.opts.flood and not self.outstanding and t.probes_left != 0 \
                and pkt.ts_ns < t.next_send_ns:
            self._schedule(t, pkt.ts_ns)

    def _on_error(self, icmp: Icmp, q: Quote, pkt: Received) -> None:
        if q.proto not in (PROTO_ICMP, PROTO_ICMP6) or q.echo is None:
            return
        ident, seq = q.echo
        if self.idents.get(q.version) != ident:
            return
        probe = self.probes.get(seq)
        if probe is None:
            return
        t = probe.target
        if not t.received and not t.errors:
            self.answered_targets += 1
        t.errors += 1
        self.total_errors += 1
        t.errors_seen.append((seq, icmp))
        if not probe.answered:
            self._answer(probe)
        self.events.append(RouterError(t, seq, pkt.ts_ns, icmp, probe.number))

    def next_deadline(self) -> int | None:
        head = self._head()
        times = [head[0]] if head else []
        if self.linger_until is not None:
            times.append(self.linger_until)
        if self.opts.deadline_ns is not None and self.start_ns is not None:
            times.append(self.start_ns + self.opts.deadline_ns)
        return min(times) if times else None

    @property
    def elapsed_ms(self) -> int:
        """iputils' "time": from the first probe to the last one sent."""
        if self.first_sent_ns is None or self.last_sent_ns is None:
            return 0
        return (self.last_sent_ns - self.first_sent_ns) // 1_000_000

    @property
    def duration_ms(self) -> int:
        """From the first probe to the end of the run (replies and lingering included)."""
        if self.first_sent_ns is None or self.end_ns is None:
            return 0
        return max(0, self.end_ns - self.first_sent_ns) // 1_000_000

    def take_events(self) -> list[PingEvent]:
        ev, self.events = self.events, []
        return ev


@frozen
class RttStats:
    """min/avg/max/mdev as iputils computes them, in microseconds."""

    min_us: int
    avg_us: int
    max_us: int
    mdev_us: int


def rtt_stats(rtts_ns: list[int]) -> RttStats | None:
    """iputils' integer-microsecond arithmetic, so that figures match digit for digit."""
    if not rtts_ns:
        return None
    return rtt_stats_us([r // 1000 for r in rtts_ns])


INT_MAX = 2**31 - 1


def rtt_stats_us(us: list[int]) -> RttStats | None:
    """min/avg/max/mdev of whole-microsecond RTTs as iputils ping's summary has them.

    iputils (ping_common.c, where the statistics are printed) keeps the sum
    and the sum of squares of every RTT in microseconds, duplicates included,
    and divides by `total` (replies + duplicates) only at the end: the
    variance is `(tsum2 - tsum*tsum/total) / total` in integers, subtracting
    before the second division so that small RTTs keep their digits; only
    when the sum reaches INT_MAX does it fall back to `tsum2/total - avg*avg`.
    avg is the truncated quotient. mdev is the square root as iputils' llsqrt()
    finds it: Newton's iteration stopped once it stops falling, which returns
    the truncated root except just below a perfect square, where it has
    stepped back up (a variance of 3 gives 2, 8 gives 3, 224 gives 15).
    """
    if not us:
        return None
    total = len(us)
    tsum = sum(us)
    tsum2 = sum(u * u for u in us)
    avg = tsum // total
    small = tsum < INT_MAX
    var = (tsum2 - tsum * tsum // total) // total if small else tsum2 // total - avg * avg
    return RttStats(min(us), avg, max(us), _llsqrt(var))


def _llsqrt(v: int) -> int:
    """iputils' integer square root: floor(sqrt(v)), or one more when v + 1 is a square."""
    if v <= 0:
        return 0
    root = math.isqrt(v)
    return root + 1 if (root + 1) * (root + 1) == v + 1 else root
