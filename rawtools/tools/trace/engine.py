"""The traceroute state machine: which probe to send when, and what each answer means.

Sans-I/O like every engine here: it is given the time and the datagrams and
answers with probes to send, so the live run, the replay of a recording and
the unit tests drive the very same decisions.

Why it is shaped this way:

- Probes go out in parallel (up to `inflight`) in TTL order, and a hop's line
  is released as soon as it and every hop before it are settled.
- A probe that got no answer is a star, and stays one: a diagnostic that
  paints over loss hides the very fault a user is hunting. Retries exist
  only to identify a hop that has not answered at all yet: Linux routers
  send a burst of 6 ICMP errors to one host, then about one a second (IPv4)
  or ten (IPv6), so a hop silent now may well answer a moment later. Such a
  hop gets one retry at a time until it answers or its budget is spent;
  once any probe of a hop has an answer, nothing more is sent to fill its
  line. Each try is kept (`Probe.tries`, `Probe.answered_try`), so the
  report's loss counts every one.
- The scout, one probe with the highest TTL, leaves with the first window
  (after it, never a round trip before it). The destination's answer quotes
  the TTL the scout arrived with, which gives its distance exactly (so does
  any answer of the destination to a probe sent past it): nothing more is
  sent past the destination, whose ICMP budget is kept for the probes of its
  own line. Such answers place the destination; they are not its samples.
- A hop that never answers while hops beyond it do is declared silent after
  a short grace. Past the last hop that answered, `gap` silent hops end the
  trace (a destination that drops the probes). A destination out of ICMP
  budget is as silent until its budget refills, so the short `gap_grace`
  applies only where nothing says it may be (see `_give_up_at`); only the
  nearest of those hops is retried, since probes past the destination spend
  its budget too.
- Live, the loop may read an answer late (a busy machine, a slow print):
  no timeout past the deadline the loop last waited for is decided before
  the loop has read what came meanwhile, so an answer it holds never turns
  into a star, and a replay decides exactly as the live run did.
"""

from __future__ import annotations

from rawtools.engine import Received, Send
from rawtools.tools.trace.config import DEFAULT_GAP, Timing
from rawtools.tools.trace.hops import Counters, Hop, Probe
from rawtools.values import frozen
from rawtools.wire.icmp import parse_ip
from rawtools.wire.ip import PROTO_TCP, parse_header
from rawtools.wire.probes import TAG_SPACE, ProbeSpec, classify_error

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from rawtools.tools.trace.hops import EndReason
    from rawtools.wire.probes import AnswerKind

FIRST_WINDOW_HOPS = 5
"""Hops probed before the scout says where the destination is: probes past it
would spend the few errors it sends on answers that are not its samples."""


@frozen
class HopDone:
    """A hop's line is complete: it and every hop before it are settled."""

    hop: Hop


TraceEvent = HopDone


class _Slot:
    __slots__ = ("current", "done", "first_ns", "last", "probe")

    def __init__(self, ttl: int, index: int) -> None:
        self.probe = Probe(ttl, index)
        self.first_ns: int | None = None  # when its first try left
        self.current: _Attempt | None = None  # the try in flight, until it times out
        self.last: _Attempt | None = None  # its latest try
        self.done = False


class _Attempt:
    __slots__ = ("answered", "number", "sent_ns", "slot", "tag", "ttl")

    def __init__(self, tag: int, ttl: int, slot: _Slot | None, number: int) -> None:
        self.tag = tag
        self.ttl = ttl
        self.slot = slot  # None: the scout
        self.number = number  # which try of its slot: 1 is the probe itself
        self.sent_ns: int | None = None
        self.answered = False


class TraceEngine:
    """Trace towards `spec.dst`; each completed hop is a `HopDone` event, in TTL order.

    `gap` silent hops past the last that answered end the trace (None: only
    `max_ttl` does). `retry` False sends each probe once (a later round of
    `-c`, --explain's paced probes); `dst_ttl` is a destination distance
    already known, which leaves the scout out.
    """

    def __init__(self, spec: ProbeSpec, first_ttl: int = 1, max_ttl: int = 30,
                 nqueries: int = 3, inflight: int = 16, timing: Timing | None = None,
                 scout: bool = True, first_tag: int = 0, gap: int | None = DEFAULT_GAP,
                 retry: bool = True, dst_ttl: int | None = None) -> None:
        self.spec = spec
        self.first_ttl = first_ttl
        self.max_ttl = max_ttl
        self.nqueries = nqueries
        self.inflight = max(1, inflight)
        self.t = timing or Timing()
        self.gap = gap
        self.retry = retry
        self.hops: dict[int, list[_Slot]] = {
            ttl: [_Slot(ttl, i) for i in range(nqueries)]
            for ttl in range(first_ttl, max_ttl + 1)}
        self._events: list[TraceEvent] = []
        self._done = False
        self.end: EndReason | None = None
        self.reached = False
        self.counters = Counters()
        self.dst_ttl: int | None = None  # the line the trace ends on, once known
        self.hint: int | None = None  # an estimate of the distance (a soft cap)
        self._hint_alive = False  # the estimate came from the destination's own answer
        self._placed: int | None = None  # where the destination's quoted TTL put it
        self._scout_rtt: int | None = None
        self._now = 0
        self._scout_due = scout and max_ttl > first_ttl and dst_ttl is None
        self._scout: _Attempt | None = None
        self._scout_done = False
        # Rounds of one session continue the tags, so a straggler answering a
        # probe of the previous round is never taken for one of this round.
        self._tag = first_tag % TAG_SPACE
        self._attempts: dict[int, _Attempt] = {}
        self._flying: list[_Attempt] = []
        self._next_print = first_ttl
        self._last_send: int | None = None
        self._rtt_at: dict[int, int] = {}  # ttl -> largest RTT: the hops identified
        self._retry_at: dict[int, int] = {}  # ttl -> when a hop not identified may retry
        self._first_answer: int | None = None
        self._last_answer: int | None = None
        self._horizon: int | None = None  # the deadline the loop last waited for
        if dst_ttl is not None and first_ttl <= dst_ttl <= max_ttl:
            self._place(dst_ttl)

    # -- Engine protocol (rawtools.engine) --------------------------------------
    @property
    def done(self) -> bool:
        return self._done

    def stop(self, now_ns: int) -> None:
        """Interrupted: hops not yet settled are never printed, as traceroute's."""
        self._done = True

    def poll(self, now: int) -> list[Send]:
        self._advance(now)
        if self._done:
            return []
        sends: list[Send] = []
        room = max(1, self.inflight - (1 if self._scout_due else 0))
        while len(self._flying) < room:
            if self.t.pause and self._last_send is not None \
                    and now < self._last_send + self.t.pause:
                break
            slot = self._next_slot(now)
            if slot is None:
                break
            sends.append(self._try(slot))
            if self.t.pause:
                self._last_send = now
                break
        if self._scout_due and sends:
            self._scout_due = False
            self._scout = _Attempt(self._new_tag(), self.max_ttl, None, 1)
            sends.append(self._send(self._scout))
        return sends

    def sent(self, send: Send, ts_ns: int) -> None:
        att: _Attempt = send.meta
        att.sent_ns = ts_ns
        self._last_send = ts_ns
        if att.slot is not None and att.slot.first_ns is None:
            att.slot.first_ns = ts_ns
        self.counters.sent += 1

    def received(self, pkt: Received) -> None:
        # Timeouts that fell before this datagram are decided first, by its
        # stamp: whatever arrived before it on its socket has been handed
        # over already, and a replay, handed it early or late, decides the same.
        self._advance(pkt.ts_ns, capped=False)
        data = pkt.packet
        if not data:
            self.counters.malformed += 1
            return
        if self.spec.method == "tcp":
            h = parse_header(data)
            if h is not None and h.proto == PROTO_TCP:
                self._tcp_answer(pkt, h.src, h.ttl, data[h.offset:])
                return
        icmp = parse_ip(data)
        if icmp is None or not icmp.cksum_ok:
            self.counters.malformed += 1
            return
        kind: AnswerKind
        if icmp.kind == "echo-reply":
            tag = self.spec.match_echo_reply(icmp)
            kind, note, final = "echo-reply", "", True
        elif icmp.quote is not None:
            tag = self.spec.match_quote(icmp)
            kind, note, final = classify_error(icmp)
        else:
            tag = None
        if tag is None:
            self.counters.unrelated += 1
            return
        # A quote rebuilt from the error queue says 0: the TTL that arrived is unknown.
        quoted_ttl = icmp.quote.ttl if icmp.quote is not None and icmp.quote.ttl > 0 \
            else None
        self._answer(tag, pkt, icmp.src, kind, note, final, icmp.ttl, quoted_ttl)

    def next_deadline(self) -> int | None:
        if self._done:
            return None
        times = [att.sent_ns + self._timeout(att) for att in self._flying
                 if att.sent_ns is not None]
        if self.retry:
            for ttl in range(self._next_print, self._cap() + 1):
                if ttl in self._rtt_at or self._settled(ttl) or self._busy(ttl):
                    continue
                if ttl in self._retry_at:
                    times.append(self._retry_at[ttl])
                end = self._give_up_at(ttl)
                if end is not None:
                    times.append(end)
        if self.t.pause and self._last_send is not None:
            times.append(self._last_send + self.t.pause)
        # What is due now was handled by poll or waits for a probe in flight,
        # whose own timeout is in the future: past times would only spin.
        times = [t for t in times if t > self._now]
        self._horizon = min(times) if times else None
        return self._horizon

    def take_events(self) -> list[TraceEvent]:
        """Hops completed since the last call, in TTL order."""
        out, self._events = self._events, []
        return out

    # -- results ---------------------------------------------------------------

    def all_hops(self) -> list[Hop]:
        """Every printed hop so far (the whole trace once `done`)."""
        return [Hop(t, [s.probe for s in self.hops[t]])
                for t in range(self.first_ttl, self._next_print)]

    @property
    def next_tag(self) -> int:
        """The tag the next probe would carry (where a following round starts)."""
        return self._tag

    @property
    def last_heard(self) -> int:
        """The farthest hop that answered (first_ttl - 1 if none did)."""
        return max(self._rtt_at, default=self.first_ttl - 1)

    def next_round(self) -> TraceEngine:
        """The engine of the following round of `-c`, mtr's way: each probe sent once.

        The hops were identified (or found silent) by this round; retrying
        again would only fill lines. The destination's distance, if this
        round found it, bounds the next round, so no scout is sent.
        """
        return TraceEngine(self.spec, self.first_ttl, self.max_ttl, self.nqueries,
                           self.inflight, self.t, scout=False, first_tag=self._tag,
                           gap=self.gap, retry=False, dst_ttl=self.dst_ttl)

    # -- internals -------------------------------------------------------------
    def _new_tag(self) -> int:
        tag = self._tag
        self._tag = (self._tag + 1) % TAG_SPACE
        self._attempts.pop(tag, None)
        return tag

    def _try(self, slot: _Slot) -> Send:
        p = slot.probe
        p.tries += 1
        att = _Attempt(self._new_tag(), p.ttl, slot, p.tries)
        slot.current = slot.last = att
        return self._send(att)

    def _send(self, att: _Attempt) -> Send:
        self._attempts[att.tag] = att
        self._flying.append(att)
        return Send(self.spec.dst, self.spec.build(att.tag), ttl=att.ttl,
                    channel=self.spec.method, meta=att)

    def _scout_open(self) -> bool:
        return self._scout_due or (self._scout is not None and not self._scout_done)

    def _cap(self) -> int:
        """The highest TTL that may be probed now."""
        cap = self.max_ttl if self.dst_ttl is None else self.dst_ttl
        if self.hint is not None and self.hint < cap and not self._settled(self.hint):
            cap = self.hint
        elif self._scout_open() and self.hint is None:
            cap = min(cap, max(self.last_heard + 1, self.first_ttl + FIRST_WINDOW_HOPS - 1))
        if self.gap is not None and self.dst_ttl is None and not self._alive_past_gap():
            # Nothing past the gap is printed: probing there would only load the path.
            cap = min(cap, max(self.last_heard + self.gap,
                               self.first_ttl + FIRST_WINDOW_HOPS - 1))
        return cap

    def _next_slot(self, now: int) -> _Slot | None:
        for ttl in range(self._next_print, self._cap() + 1):
            slots = self.hops[ttl]
            for s in slots:
                if not s.done and s.current is None and s.first_ns is None:
                    return s
            if self.retry and ttl not in self._rtt_at and not self._busy(ttl) \
                    and self._retry_at.get(ttl, now + 1) <= now:
                # One chain of retries per hop, on its last slot still open.
                # Past the last hop that answered, only the nearest silent hop
                # is retried: probes past the destination reach it as well, and
                # one of them taking the single error it sends a second would
                # leave its own line without an answer (or, with no quoted TTL
                # to tell, put the destination on the wrong line). None there
                # that could not be waited for before giving up: the trace's
                # end waits on them.
                open_slots = [s for s in slots if not s.done]
                beyond = self._beyond_works(ttl)
                end = None if beyond else self._give_up_at(ttl)
                if open_slots and (beyond or ttl == self._nearest_silent()) \
                        and (end is None or now + self._wait_for(ttl) <= end):
                    return open_slots[-1]
        return None

    def _nearest_silent(self) -> int | None:
        """The first hop past the last that answered that is still being tried."""
        return next((t for t in range(self.last_heard + 1, self._cap() + 1)
                     if t in self.hops and not self._settled(t)), None)

    def _busy(self, ttl: int) -> bool:
        """A try of this hop is in flight, or one of its slots has not left yet."""
        return any(s.current is not None or (s.first_ns is None and not s.done)
                   for s in self.hops[ttl])

    def _alive(self, ttl: int) -> bool:
        """Whether this hop answers at all: it did, or the destination is known to be here."""
        return ttl in self._rtt_at or self._placed == ttl or (
            self._hint_alive and self.hint == ttl)

    def _beyond_works(self, ttl: int) -> bool:
        """Whether something past `ttl` answered, so silence at `ttl` is the hop's own."""
        return self.last_heard > ttl or (self._placed or 0) > ttl or (
            self._hint_alive and self.hint is not None and self.hint > ttl)

    def _alive_past_gap(self) -> bool:
        """The scout heard the destination beyond the last hop that answered, and the
        trace has not yet passed the hop it estimated.

        The estimate assumes the way back as long as the way out, so once its
        hop has been printed silent the destination may still lie further on,
        or the estimate was wrong: the gap rule, counted from the last hop that
        really answered, takes over again, as it would have with no scout.
        """
        return self._hint_alive and self.hint is not None and self.hint > self.last_heard \
            and self._next_print <= self.hint

    def _timeout(self, att: _Attempt) -> int:
        return self._wait_for(att.ttl, scout=att.slot is None)

    def _wait_for(self, ttl: int, scout: bool = False) -> int:
        """How long a probe with this TTL is waited for before it counts as lost."""
        here = self._rtt_at.get(ttl)
        if scout:
            # The scout's answer only steers: waiting long for it would hold
            # back the hops it is meant to speed up.
            t = 10 * max(self._rtt_at.values()) if self._rtt_at else self.t.wait
        elif here is not None:
            t = 3 * here
        else:
            # A hop not heard yet: its answer should come about as soon as
            # those of the hops around it. Its timeout only says when to
            # retry; an answer that comes later still counts until the line
            # is printed.
            near = [r for h, r in self._rtt_at.items() if h > ttl]
            if self._scout_rtt is not None and (self.hint or self._placed or 0) > ttl:
                near.append(self._scout_rtt)
            if near:
                t = 3 * max(near)
            else:
                t = max(self.t.beyond, 3 * max(self._rtt_at.values(), default=0))
        return min(self.t.wait, max(self.t.floor, t))

    def _advance(self, now: int, capped: bool = True) -> None:
        """Decide what the time `now` settles; `capped`, no later than the loop waited.

        The loop waits until the deadline it was given, reading what arrives
        meanwhile; a probe whose deadline is past that (the process was
        descheduled, or printing a hop took long) may have its answer unread
        in the socket. Its fate waits for the next wait, which reads that
        answer first: a live run never turns an answer it has into a star.
        """
        if capped and self._horizon is not None:
            now = min(now, self._horizon)
        self._now = max(self._now, now)
        # Also when the time does not move on (a poll capped short of a
        # datagram's stamp): an answer handled since the last call may have
        # shortened other probes' timeouts into the past, or settled a hop.
        self._expire(self._now)
        # Printing a hop can raise the cap (a passed estimate, the gap rule
        # taking over), which brings in hops whose grace ended already: they
        # are settled now, not at a later wake-up that nothing would schedule.
        printed = -1
        while not self._done and printed != self._next_print:
            printed = self._next_print
            self._settle(self._now)
            self._release()

    def _expire(self, now: int) -> None:
        """Decide the probes whose timeout passed by `now`, earliest first.

        A probe of a hop that answered is a star from here on (a late answer
        still counts until the line is printed). A hop with no answer yet may
        retry once its last try timed out and `retry` has passed since that
        try left; times count from the timeout itself, not from when the loop
        got round to it, so a live run and its replay schedule the same retries.
        """
        due = []
        keep = []
        for att in self._flying:
            if att.sent_ns is not None:
                deadline = att.sent_ns + self._timeout(att)
                if deadline <= now:
                    due.append((deadline, att.tag, att))
                    continue
            keep.append(att)
        self._flying = keep
        for deadline, _tag, att in sorted(due, key=lambda d: d[:2]):
            slot = att.slot
            if slot is None:
                self._scout_done = True  # one shot: a retry would cost the destination more
                continue
            if slot.current is not att:
                continue
            slot.current = None
            if att.ttl in self._rtt_at or not self.retry:
                slot.done = True
            else:
                assert att.sent_ns is not None
                self._retry_at[att.ttl] = max(deadline, att.sent_ns + self.t.retry)

    def _grace(self) -> int:
        return max(self.t.grace, 3 * max(self._rtt_at.values(), default=0))

    def _give_up_at(self, ttl: int) -> int | None:
        """When a hop that has not answered stops being retried.

        The destination, known to be here, has the long grace: it answers
        once its budget refills. So have several silent hops at once, which
        is what routers out of ICMP budget look like. A hop alone in its
        silence, with answers beyond it, is a router that sends no errors:
        the short grace, counted from the latest answer (which is when it
        was left alone). Past the last hop that answered, a destination that
        drops the probes looks just like one out of budget until its budget
        would have refilled. `gap_grace`, short of a refill period, ends the
        trace when nothing says the budget may be spent: every hop before
        answered every probe (no rate limit at work on this path), and the
        path is longer than the first window (on a shorter one, the previous
        trace's first window, ours or traceroute's, spent the destination's
        burst on probes sent past it). Otherwise the long grace.
        """
        slots = self.hops[ttl]
        if any(s.first_ns is None for s in slots):
            return None
        start = min(s.first_ns for s in slots if s.first_ns is not None)
        if self._alive(ttl):
            budget = self.t.long_grace
        elif self._beyond_works(ttl):
            lone = all(t in self._rtt_at or self._settled(t)
                       for t in range(self._next_print, self._cap() + 1) if t != ttl)
            if lone:
                start = max(start, self._last_answer or start)
                budget = self._grace()
            else:
                budget = self.t.long_grace
        elif self._first_answer is not None and not self._lossy() \
                and self.last_heard >= self.first_ttl + FIRST_WINDOW_HOPS - 1:
            start = max(start, self._first_answer)
            budget = self.t.gap_grace
        else:
            budget = self.t.long_grace
        return start + min(self.t.wait, budget)

    def _lossy(self) -> bool:
        """A hop that answered lost a probe (to a rate limit, or on the way)."""
        return any(s.done and s.probe.answered_try != 1
                   for ttl in self._rtt_at for s in self.hops[ttl])

    def _settle(self, now: int) -> None:
        """Give up the hops that have not answered and whose budget is spent."""
        if not self.retry:
            return
        for ttl in range(self._next_print, self._cap() + 1):
            if ttl in self._rtt_at or self._settled(ttl) or self._busy(ttl):
                continue
            end = self._give_up_at(ttl)
            if end is not None and now >= end:
                for s in self.hops[ttl]:
                    s.done = True

    def _settled(self, ttl: int) -> bool:
        return all(s.done for s in self.hops[ttl])

    def _release(self) -> None:
        cap = self.max_ttl if self.dst_ttl is None else self.dst_ttl
        while self._next_print <= cap and self._settled(self._next_print):
            ttl = self._next_print
            self._events.append(HopDone(Hop(ttl, [s.probe for s in self.hops[ttl]])))
            self._next_print += 1
            if self.gap is not None and self.dst_ttl is None and not self._alive_past_gap() \
                    and self._next_print > self.last_heard + self.gap \
                    and self._next_print <= cap:
                self._finish("gap")
                return
        if self._next_print > cap:
            self._finish("reached" if self.reached else
                         "unreachable" if self.dst_ttl is not None else "max-ttl")

    def _finish(self, end: EndReason) -> None:
        self._done = True
        self.end = end

    def _place(self, ttl: int) -> None:
        """The path ends at `ttl`: nothing is sent or printed past it."""
        if self.dst_ttl is not None and self.dst_ttl <= ttl:
            return
        self.dst_ttl = ttl
        for t in range(ttl + 1, self.max_ttl + 1):
            for s in self.hops[t]:
                s.done = True

    def _tcp_answer(self, pkt: Received, src: str, ttl: int, segment: bytes) -> None:
        got = self.spec.match_tcp(segment, src)
        if got is None:
            self.counters.unrelated += 1
            return
        tag, flags = got
        kind: AnswerKind = "syn-ack" if flags == "SA" else "rst"
        self._answer(tag, pkt, src, kind, "", True, ttl, None)

    def _answer(self, tag: int, pkt: Received, src: str, kind: AnswerKind, note: str, final: bool,
                reply_ttl: int, quoted_ttl: int | None) -> None:
        att = self._attempts.get(tag)
        if not self.counters.claim(att, self._flying):
            return
        assert att.sent_ns is not None
        rtt = max(0, pkt.ts_ns - att.sent_ns)
        from_dst = src == self.spec.dst
        # The destination quotes the TTL our probe arrived with: its distance,
        # exactly (a router's quote may be off by the decrement it did).
        distance = att.ttl - quoted_ttl + 1 if final and from_dst and not note \
            and quoted_ttl is not None else None
        if att.slot is None:
            self._scout_done = True
            self.counters.beyond += 1
            self._scouted(att.ttl, from_dst, final, note, reply_ttl, distance, rtt)
            return
        if distance is not None and self.first_ttl <= distance < att.ttl:
            # Sent past the destination: its answer places it, but is not a
            # sample of the destination's line, nor of this one.
            self.counters.beyond += 1
            self.reached = True
            self._placed = distance
            self._place(distance)
            return
        slot = att.slot
        limit = self.max_ttl if self.dst_ttl is None else self.dst_ttl
        if att.ttl > limit:
            self.counters.beyond += 1
            return
        if att.ttl < self._next_print:
            self.counters.late += 1  # its line is printed
            return
        slot.probe.answers += 1
        if slot.probe.addr is not None:
            self.counters.late += 1  # another try of this slot answered first
            return
        if slot.current is att:
            slot.current = None
        slot.done = True
        p = slot.probe
        p.addr, p.rtt_ns, p.kind, p.note, p.reply_ttl = src, rtt, kind, note, reply_ttl
        p.answered_try = att.number
        p.packet = pkt.packet
        if self._first_answer is None:
            self._first_answer = pkt.ts_ns
        self._last_answer = pkt.ts_ns
        self._rtt_at[att.ttl] = max(rtt, self._rtt_at.get(att.ttl, 0))
        self._retry_at.pop(att.ttl, None)
        for s in self.hops[att.ttl]:
            if s.current is None and s.first_ns is not None and not s.done:
                self._lost_or_late(s)
        if final:
            self._place(att.ttl)
            self.reached = self.reached or (from_dst and not note)

    def _lost_or_late(self, slot: _Slot) -> None:
        """A slot of a hop that just answered, whose latest try timed out unanswered.

        The hop is known now, so it is not retried: its try is a star, unless
        the hop's answer shows the path slower than that try's timeout assumed
        (a first answer past the timeout of probes sent before any came back):
        then the try is waited for again, with the timeout the answer warrants.
        """
        last = slot.last
        if last is not None and not last.answered and last.sent_ns is not None \
                and last.sent_ns + self._timeout(last) > self._now:
            slot.current = last
            self._flying.append(last)
        else:
            slot.done = True

    def _scouted(self, sent_ttl: int, from_dst: bool, final: bool, note: str, reply_ttl: int,
                 distance: int | None, rtt: int) -> None:
        """Turn the scout's answer into the destination's place, or an estimate of it."""
        if not final:
            return
        if distance is not None:
            if self.first_ttl <= distance <= self.max_ttl:
                self._scout_rtt = rtt
                self.reached = True
                self._placed = distance
                self._place(distance)
            return
        if reply_ttl <= 0:
            return
        # No quote (an echo reply, a TCP answer, an error from the error
        # queue): the reply's own TTL, counted down from the usual initial
        # values, estimates the distance, if the way back is as long.
        initial = next(t for t in (32, 64, 128, 255) if t >= reply_ttl)
        estimate = initial - reply_ttl + 1
        if self.first_ttl <= estimate <= self.max_ttl:
            self._scout_rtt = rtt
            self.hint = estimate
            self._hint_alive = from_dst and not note
