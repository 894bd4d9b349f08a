"""The traceroute state machine: which probe to send when, and what each answer means.

Sans-I/O like every engine here: it is given the time and the datagrams and
answers with probes to send, so the live run, the replay of a recording and
the unit tests drive the very same decisions.

Why it is shaped this way:

- Probes go out in parallel (up to `inflight`) in TTL order, and a hop's line
  is released as soon as it and every hop before it are settled.
- Linux routers send at most a burst of 6 ICMP errors to one host, then about
  one a second (IPv4) or ten (IPv6). A probe lost to that limit is retried,
  with growing gaps, as long as its hop has shown it is alive, until the
  `wait` budget of that probe runs out: a rate-limited hop gets its RTTs, not
  stars.
- The first probe is a scout with the highest TTL: the destination's answer
  says how far away it is (the quoted TTL, for UDP, is exact), so no probe is
  sent beyond the destination, whose error budget is then kept for the probes
  that matter.
- A hop that never answers while hops beyond it do is declared silent after a
  short grace, not after `wait`; probes past the last answering hop get a
  timeout scaled from the RTTs seen, so a firewalled destination ends the
  trace in seconds rather than minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

from rawtools.engine import Received, Send
from rawtools.tools.trace.config import Timing
from rawtools.tools.trace.hops import Counters, Hop, Probe
from rawtools.wire.icmp import parse_ip
from rawtools.wire.ip import PROTO_TCP, parse_header
from rawtools.wire.probes import TAG_SPACE, AnswerKind, ProbeSpec, classify_error


@dataclass(frozen=True, slots=True)
class HopDone:
    """A hop's line is complete: it and every hop before it are settled."""

    hop: Hop


TraceEvent = HopDone


class _Slot:
    __slots__ = ("current", "done", "first_ns", "probe", "retry_at")

    def __init__(self, ttl: int, index: int) -> None:
        self.probe = Probe(ttl, index)
        self.first_ns: int | None = None
        self.current: _Attempt | None = None
        self.retry_at: int | None = None
        self.done = False


class _Attempt:
    __slots__ = ("answered", "sent_ns", "slot", "tag", "ttl")

    def __init__(self, tag: int, ttl: int, slot: _Slot | None) -> None:
        self.tag = tag
        self.ttl = ttl
        self.slot = slot
        self.sent_ns: int | None = None
        self.answered = False


class TraceEngine:
    """Trace towards `spec.dst`; each completed hop is a `HopDone` event, in TTL order."""

    def __init__(self, spec: ProbeSpec, first_ttl: int = 1, max_ttl: int = 30,
                 nqueries: int = 3, inflight: int = 16, timing: Timing | None = None,
                 scout: bool = True, first_tag: int = 0) -> None:
        self.spec = spec
        self.first_ttl = first_ttl
        self.max_ttl = max_ttl
        self.nqueries = nqueries
        self.inflight = max(1, inflight)
        self.t = timing or Timing()
        self.hops: dict[int, list[_Slot]] = {
            ttl: [_Slot(ttl, i) for i in range(nqueries)]
            for ttl in range(first_ttl, max_ttl + 1)}
        self._events: list[TraceEvent] = []
        self._done = False
        self.reached = False
        self.counters = Counters()
        self.dst_ttl: int | None = None  # lowest TTL with a final answer
        self.hint: int | None = None  # the scout's estimate of the distance
        self._hint_alive = False  # the scout's answer came from the destination
        self._scout_rtt: int | None = None
        self._now = 0
        self._scout: _Slot | None = _Slot(max_ttl, -1) if scout and max_ttl > first_ttl \
            else None
        # Rounds of one session continue the tags, so a straggler answering a
        # probe of the previous round is never taken for one of this round.
        self._tag = first_tag % TAG_SPACE
        self._attempts: dict[int, _Attempt] = {}
        self._flying: list[_Attempt] = []
        self._next_print = first_ttl
        self._last_send: int | None = None
        self._rtt_at: dict[int, int] = {}  # ttl -> largest RTT answered there

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
        sc = self._scout
        if sc is not None and not sc.done and sc.current is None and (
                sc.first_ns is None or (sc.retry_at is not None and sc.retry_at <= now)):
            sc.retry_at = None
            sc.probe.tries += 1
            sc.current = _Attempt(self._new_tag(), self.max_ttl, sc)
            sends.append(self._send(sc.current))
        while len(self._flying) < self.inflight:
            if self.t.pause and self._last_send is not None \
                    and now < self._last_send + self.t.pause:
                break
            slot = self._next_slot(now)
            if slot is None:
                break
            slot.retry_at = None
            slot.probe.tries += 1
            att = _Attempt(self._new_tag(), slot.probe.ttl, slot)
            slot.current = att
            sends.append(self._send(att))
            if self.t.pause:
                self._last_send = now
                break
        return sends

    def sent(self, send: Send, ts_ns: int) -> None:
        att: _Attempt = send.meta
        att.sent_ns = ts_ns
        self._last_send = ts_ns
        if att.slot is not None and att.slot.first_ns is None:
            att.slot.first_ns = ts_ns
        self.counters.sent += 1

    def received(self, pkt: Received) -> None:
        # Timeouts that fell before this datagram are decided first, as a
        # replay (which wakes exactly at each deadline) would decide them.
        self._advance(pkt.ts_ns)
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
        times = []
        for att in self._flying:
            if att.sent_ns is not None:
                times.append(att.sent_ns + self._timeout(att.ttl, att.slot is self._scout))
        for slots in [*self.hops.values(), [self._scout] if self._scout else []]:
            for s in slots:
                if not s.done and s.current is None and s.first_ns is not None:
                    if s.retry_at is not None:
                        times.append(s.retry_at)
                    times.append(s.first_ns + self.t.wait)
                    if not self._alive(s.probe.ttl):
                        times.append(s.first_ns + self._grace())
                        times.append(s.first_ns + self.t.long_grace)
        if self.t.pause and self._last_send is not None:
            times.append(self._last_send + self.t.pause)
        # What is due now was handled by poll or waits for a probe in flight,
        # whose own timeout is in the future: past times would only spin.
        times = [t for t in times if t > self._now]
        return min(times) if times else None

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

    # -- internals -------------------------------------------------------------
    def _new_tag(self) -> int:
        tag = self._tag
        self._tag = (self._tag + 1) % TAG_SPACE
        self._attempts.pop(tag, None)
        return tag

    def _send(self, att: _Attempt) -> Send:
        self._attempts[att.tag] = att
        self._flying.append(att)
        return Send(self.spec.dst, self.spec.build(att.tag), ttl=att.ttl,
                    channel=self.spec.method, meta=att)

    def _cap(self) -> int:
        cap = self.max_ttl if self.dst_ttl is None else self.dst_ttl
        if self.hint is not None and self.hint < cap and not self._hop_settled(self.hint):
            cap = self.hint
        elif self._scout is not None and not self._scout.done and self.hint is None:
            # Until the scout says where the destination is, do not run far
            # ahead of the last router heard: every probe past the destination
            # spends one of the few errors it will send us.
            heard = max((t for t, a in self._rtt_at.items() if t != self.dst_ttl),
                        default=self.first_ttl - 1)
            cap = min(cap, max(heard + 1, self.first_ttl + 4))
        return cap

    def _next_slot(self, now: int) -> _Slot | None:
        for ttl in range(self._next_print, self._cap() + 1):
            for s in self.hops[ttl]:
                if s.done or s.current is not None:
                    continue
                if s.first_ns is None or (s.retry_at is not None and s.retry_at <= now):
                    return s
        return None

    def _alive(self, ttl: int) -> bool:
        """Whether this hop answers at all: it did, or the scout found the destination there."""
        return ttl in self._rtt_at or (self._hint_alive and self.hint == ttl)

    def _beyond_works(self, ttl: int) -> bool:
        """Whether something past `ttl` answered, so silence at `ttl` is the hop's own."""
        return any(h > ttl for h in self._rtt_at) or (
            self._hint_alive and self.hint is not None and self.hint > ttl)

    def _timeout(self, ttl: int, scout: bool = False) -> int:
        here = self._rtt_at.get(ttl)
        if scout:
            # Its answer only steers; a late one is still taken, so a retry is cheap.
            t = 10 * max(self._rtt_at.values()) if self._rtt_at else self.t.wait
        elif here is not None:
            t = 3 * here
        else:
            near = [r for h, r in self._rtt_at.items() if h > ttl]
            if self._scout_rtt is not None and self.hint is not None and self.hint > ttl:
                near.append(self._scout_rtt)
            if near:
                t = 10 * max(near)
            elif self._rtt_at:
                t = max(self.t.beyond, 10 * max(self._rtt_at.values()))
            else:
                t = max(self.t.beyond, self.t.floor)
        return min(self.t.wait, max(self.t.floor, t))

    def _advance(self, now: int) -> None:
        if now < self._now:
            return
        self._now = now
        self._expire(now)
        self._settle(now)
        self._release()

    def _expire(self, now: int) -> None:
        """Decide the probes whose timeout passed by `now`, earliest first.

        Retry times count from the timeout itself, not from when the loop got
        round to it, so a live run and its replay schedule the same retries.
        """
        due = []
        keep = []
        for att in self._flying:
            if att.sent_ns is not None:
                deadline = att.sent_ns + self._timeout(att.ttl, att.slot is self._scout)
                if deadline <= now:
                    due.append((deadline, att.tag, att))
                    continue
            keep.append(att)
        self._flying = keep
        for deadline, _tag, att in sorted(due, key=lambda d: d[:2]):
            slot = att.slot
            if slot is None or slot.current is not att:
                continue
            slot.current = None
            # Every loss is retried after a growing gap; how long a slot may
            # keep trying is decided by `_settle`, and a late answer to an
            # earlier try still counts until the line is printed.
            step = self.t.backoff << min(slot.probe.tries - 1, 8)
            slot.retry_at = deadline + min(step, self.t.backoff_max)

    def _grace(self) -> int:
        return max(self.t.grace, 3 * max(self._rtt_at.values(), default=0))

    def _settle(self, now: int) -> None:
        """Give up the slots whose budget is spent.

        A hop that answered keeps trying for `wait` (it is alive, so a loss is
        most likely a rate limit). A hop that never answered while hops beyond
        it did stops after the short grace when it is the only one left
        unsettled (a router that does not send errors); otherwise it tries for
        `long_grace`, since routers out of ICMP budget look just like that.
        """
        sc = self._scout
        if sc is not None and not sc.done and sc.first_ns is not None \
                and now - sc.first_ns >= self.t.long_grace:
            sc.done = True
        rng = range(self._next_print, self._cap() + 1)
        partial = any(not s.done for ttl in rng if self._alive(ttl) for s in self.hops[ttl])
        silent_hops = [ttl for ttl in rng if not self._alive(ttl)]
        isolated = len(silent_hops) <= 1 and not partial
        for ttl in rng:
            if self._alive(ttl) and any(s.probe.note for s in self.hops[ttl]):
                # An unreachable (!H, !N, !X, ...) ends the path at this hop, and
                # Linux sends those more sparingly still than time-exceeded:
                # retrying for the whole wait only delays the answer. traceroute
                # gives such a hop three RTTs; the grace is that or more.
                budget = min(self.t.wait, self._grace())
            elif self._alive(ttl):
                budget = self.t.wait
            elif isolated and self._beyond_works(ttl):
                budget = min(self.t.wait, self._grace())
            else:
                # Several silent hops, or the first hop past all answers (a
                # destination out of budget looks like that): a refill period.
                budget = min(self.t.wait, self.t.long_grace)
            for s in self.hops[ttl]:
                if s.done or s.current is not None or s.first_ns is None:
                    continue
                if now - s.first_ns >= budget:
                    s.done = True

    def _hop_settled(self, ttl: int) -> bool:
        return all(s.done for s in self.hops[ttl])

    def _release(self) -> None:
        cap = self.max_ttl if self.dst_ttl is None else self.dst_ttl
        while self._next_print <= cap and self._hop_settled(self._next_print):
            ttl = self._next_print
            self._events.append(HopDone(Hop(ttl, [s.probe for s in self.hops[ttl]])))
            self._next_print += 1
        if self._next_print > cap:
            self._done = True

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
        if att is None or att.sent_ns is None:
            self.counters.unrelated += 1
            return
        if att.answered:
            self.counters.duplicates += 1
            return
        att.answered = True
        self.counters.answers += 1
        rtt = max(0, pkt.ts_ns - att.sent_ns)
        if att in self._flying:
            self._flying.remove(att)
        from_dst = src == self.spec.dst
        if att.slot is not None and att.slot is self._scout:
            att.slot.done = True
            att.slot.current = None
            self._scouted(att.ttl, from_dst, final, reply_ttl, quoted_ttl)
            if self.hint is not None:
                self._scout_rtt = rtt
            first = self.hops[self.hint][0] if self.hint is not None else None
            exact = quoted_ttl is not None and from_dst and final and not note
            if not exact or first is None or first.first_ns is not None or self.hint is None:
                return
            # The quoted TTL proves the scout was the destination's answer to a
            # probe that arrived with TTL to spare: it is the first probe of
            # that hop, and the destination need not spend an error on another.
            first.first_ns, first.probe.tries = att.sent_ns, 1
            att.slot, att.ttl = first, self.hint
        slot = att.slot
        assert slot is not None
        limit = self.max_ttl if self.dst_ttl is None else self.dst_ttl
        if slot.probe.addr is not None or att.ttl < self._next_print or att.ttl > limit:
            # Another try of this slot answered first, or its line is printed.
            self.counters.late += 1
            return
        if slot.current is att:
            slot.current = None
        slot.done = True
        slot.retry_at = None
        p = slot.probe
        p.addr, p.rtt_ns, p.kind, p.note, p.reply_ttl = src, rtt, kind, note, reply_ttl
        p.packet = pkt.packet
        self._rtt_at[att.ttl] = max(rtt, self._rtt_at.get(att.ttl, 0))
        if final:
            if self.dst_ttl is None or att.ttl < self.dst_ttl:
                self.dst_ttl = att.ttl
                for ttl in range(att.ttl + 1, self.max_ttl + 1):
                    for s in self.hops.get(ttl, []):
                        s.done = True
            self.reached = self.reached or (from_dst and not note)

    def _scouted(self, sent_ttl: int, from_dst: bool, final: bool, reply_ttl: int,
                 quoted_ttl: int | None) -> None:
        """Turn the scout's answer into a distance estimate (a soft cap)."""
        if not final:
            return
        if quoted_ttl is not None:
            distance = sent_ttl - quoted_ttl + 1
        elif reply_ttl <= 0:
            return
        else:
            initial = next(t for t in (32, 64, 128, 255) if t >= reply_ttl)
            distance = initial - reply_ttl + 1
        if self.first_ttl <= distance <= self.max_ttl:
            self.hint = distance
            self._hint_alive = from_dst

