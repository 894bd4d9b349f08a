"""Multipath tracing: every path through per-flow load balancers, hop by hop.

Sans-I/O like every engine here (`rawtools.engine`): the live run and the
unit tests drive the same decisions. It is the Multipath Detection Algorithm
of Augustin, Friedman and Teixeira ("Measuring load-balanced paths in the
Internet", IMC 2007; the bound of Veitch et al., "Failure control in
multipath route tracing", INFOCOM 2009), as scamper's tracelb runs it.

Why it is shaped this way:

- A load balancer hashes each packet's flow identifier (`rawtools.wire.flows`)
  and sends every packet of a flow the same way. So flows are numbered and
  each flow keeps its identifier at every TTL: what flow f shows at hop h-1
  and at hop h is one path, and that is where links come from.
- Stopping rule: an interface r at hop h-1 from which k next hops have been
  seen is probed through until n_k flows known to pass r have been probed at
  h (`stopping_point`): had r k+1 next hops sharing its flows evenly, n_k
  flows would have missed one of them with probability at most 5 %.
- Node control: flows known to pass r come from probing fresh flows at hop
  h-1 and keeping those that land on r. Where hop h-1 is settled with a single
  interface (or none: a silent hop), every flow passes it, and fresh flows go
  straight to hop h; so a chain without balancers costs n_1 = 6 probes a hop.
- Hops are settled in TTL order. Hop h's interfaces and the links into it are
  final once hop h+1 is settled (node control for h+1 probes hop h), so a hop
  is reported one hop later than it settles.
- Linux routers send a burst of 6 ICMP errors to one host and then about one
  a second (IPv4) or ten (IPv6), and MDA asks one router for dozens where
  paths converge. Each TTL has a window of probes in progress that halves on
  every loss and grows with every answer, and a lost probe is retried after
  a growing gap as long as its hop keeps answering something within `wait`:
  a rate-limited router is paced to its budget and answers every flow in the
  end, rather than showing stars; a silent one costs `wait`.
- A flow that never answers counts towards the stopping rule as an anonymous
  next hop (it went somewhere that does not answer). A hop where no flow
  answers is a star that every flow passes; `gap_limit` of them in a row end
  the trace, as the end of the responding path.
"""

from __future__ import annotations

import ipaddress
import math
from typing import TYPE_CHECKING

from rawtools.engine import Received, Send
from rawtools.tools.trace.config import Timing
from rawtools.tools.trace.hops import Counters
from rawtools.values import frozen
from rawtools.wire.flows import FlowProbes
from rawtools.wire.icmp import parse_ip
from rawtools.wire.ip import PROTO_TCP, parse_header
from rawtools.wire.probes import TAG_SPACE, classify_error

if TYPE_CHECKING:
    from rawtools.wire.probes import AnswerKind

STAR = "*"
"""The anonymous node of a hop where no flow answered; never an address."""
_ROOT = ""
"""Where every flow is before the first hop probed."""


_TABLES: dict[int, list[int]] = {}
"""n_1, n_2, ... per confidence, as far as they were asked for."""


def stopping_point(k: int, confidence: int = 95) -> int:
    """n_k: flows to probe through a node with k next hops seen, to rule out k+1.

    With k+1 next hops sharing the flows evenly, n flows miss at least one
    of them with probability (inclusion-exclusion over the hops missed)

        P(n) = sum over i = 1..k of (-1)^(i+1) C(k+1, i) ((k+1-i)/(k+1))^n

    and n_k is the least n with P(n) <= 1 - confidence. It is computed in
    integers, P(n)(k+1)^n against (100 - confidence)(k+1)^n / 100: the
    alternating sum of large terms would lose its digits in floating point.
    """
    if k < 1 or not 0 < confidence < 100:
        raise ValueError(f"stopping_point: k={k} (1 or more), confidence={confidence} (1..99)")
    table = _TABLES.setdefault(confidence, [])
    while len(table) < k:
        hops = len(table) + 2
        # n_k grows with k, and fewer flows than next hops cannot see them all.
        n = max(hops, table[-1] if table else 0)
        terms = [(-1) ** (i + 1) * math.comb(hops, i) * (hops - i) ** n for i in range(1, hops)]
        total = hops**n
        while 100 * sum(terms) > (100 - confidence) * total:
            terms = [t * (hops - i) for i, t in enumerate(terms, 1)]
            total *= hops
            n += 1
        table.append(n)
    return table[k - 1]


# -- results ------------------------------------------------------------------

@frozen
class Interface:
    """An address that answered at a hop, and the flows that reached it there.

    `kind` and `note` are those of traceroute (`rawtools.tools.trace.hops.Probe`);
    `final` is true where the path ends (the destination, or an unreachable).
    """

    addr: str
    flows: tuple[int, ...]
    rtt_ns: int
    kind: AnswerKind
    note: str
    final: bool
    reply_ttl: int


@frozen
class Link:
    """`src` at hop `ttl` leads to `dst` at hop `ttl + 1`; either may be `STAR`."""

    ttl: int
    src: str
    dst: str


@frozen
class MdaHop:
    """One TTL: the interfaces found there, and the links into it from the hop before.

    `probes` counts the datagrams sent with this TTL (retries included),
    `flows` the flows probed, `lost` those that never got an answer. A
    node-control probe still out when the next hop settles is no longer
    needed: it is dropped, counted in `probes` but in neither `flows` nor
    `lost` (nothing was lost that the result depended on).
    """

    ttl: int
    interfaces: tuple[Interface, ...]
    links: tuple[Link, ...]
    probes: int
    flows: int
    lost: int

    @property
    def addrs(self) -> list[str]:
        return [i.addr for i in self.interfaces]

    @property
    def silent(self) -> bool:
        return not self.interfaces


@frozen
class HopSettled:
    """A hop's interfaces and the links into it will not change any more."""

    hop: MdaHop


MdaEvent = HopSettled


# -- engine -------------------------------------------------------------------

class _Probe:
    """A flow at a TTL, tried until answered, given up, or no longer needed."""

    __slots__ = ("addr", "current", "done", "final", "first_ns", "flow", "kind", "last_ns",
                 "note", "reply_ttl", "rtt_ns", "ttl")

    def __init__(self, flow: int, ttl: int) -> None:
        self.flow = flow
        self.ttl = ttl
        self.first_ns: int | None = None
        self.last_ns = 0
        self.current: _Attempt | None = None
        self.done = False
        self.addr: str | None = None
        self.rtt_ns = 0
        self.kind: AnswerKind = "time-exceeded"
        self.note = ""
        self.final = False
        self.reply_ttl = 0


class _Attempt:
    __slots__ = ("answered", "probe", "sent_ns", "tag")

    def __init__(self, tag: int, probe: _Probe) -> None:
        self.tag = tag
        self.probe = probe
        self.sent_ns: int | None = None
        self.answered = False


class MdaEngine:
    """Trace every path towards `flows.spec.dst`; a `HopSettled` per hop, in TTL order."""

    def __init__(self, flows: FlowProbes, first_ttl: int = 1, max_ttl: int = 30,
                 confidence: int = 95, inflight: int = 16, timing: Timing | None = None,
                 max_flows: int = 4096, gap_limit: int = 3) -> None:
        self.flows = flows
        self.spec = flows.spec
        self.first_ttl = first_ttl
        self.max_ttl = max_ttl
        self.confidence = confidence
        self.inflight = max(1, inflight)
        self.t = timing or Timing()
        self.max_flows = min(max_flows, flows.max_flows)
        self.gap_limit = gap_limit
        self.counters = Counters()
        self.reached = False
        self.hops: list[MdaHop] = []
        self._events: list[MdaEvent] = []
        self._done = False
        self._now = 0
        self._nflows = 0
        self._tag = 0
        self._tags: dict[int, _Attempt] = {}
        self._flying: list[_Attempt] = []
        self._probes: dict[int, dict[int, _Probe]] = {}
        self._sent_at: dict[int, int] = {}  # datagrams sent per TTL
        self._window: dict[int, float] = {}  # TTL -> tries it may have in flight
        self._losses: dict[int, int] = {}  # TTL -> tries lost in a row
        self._resume: dict[int, int] = {}  # TTL -> no try before this, after a loss
        self._heard: dict[int, int] = {}  # TTL -> when it last answered
        self._last_send: int | None = None
        self.frontier = first_ttl  # the hop being settled
        self._reported = first_ttl  # the next hop to report

    # -- Engine protocol (rawtools.engine) ----------------------------------------
    @property
    def done(self) -> bool:
        return self._done

    def stop(self, now_ns: int) -> None:
        """Interrupted: report what is settled so far, as far as it goes."""
        if not self._done:
            self._finish(self.frontier - 1)

    def poll(self, now: int) -> list[Send]:
        self._advance(now)
        if self._done:
            return []
        sends: list[Send] = []
        # Lost probes first, the longest untried first, then the new ones.
        queue: list[tuple[_Probe | None, int | None, int]] = [
            (p, p.flow, p.ttl) for p in sorted(self._waiting(), key=lambda p: p.last_ns)]
        queue += [(None, f, ttl) for f, ttl in self._wanted()]
        for p, flow, ttl in queue:
            if not self._may_send(now, sends):
                break
            if not self._open(ttl, now):
                continue
            if p is None:
                if flow is None:
                    if self._nflows >= self.max_flows:
                        continue
                    flow = self._nflows
                    self._nflows += 1
                p = _Probe(flow, ttl)
                self._probes.setdefault(ttl, {})[flow] = p
            sends.append(self._attempt(p))
        return sends

    def sent(self, send: Send, ts_ns: int) -> None:
        att: _Attempt = send.meta
        att.sent_ns = ts_ns
        att.probe.last_ns = ts_ns
        if att.probe.first_ns is None:
            att.probe.first_ns = ts_ns
        self._last_send = ts_ns
        self.counters.sent += 1

    def received(self, pkt: Received) -> None:
        # Timeouts that fell before this datagram are decided first, as a
        # replay (which wakes exactly at each deadline) would decide them.
        self._advance(pkt.ts_ns)
        data = pkt.packet
        if self.spec.method == "tcp":
            h = parse_header(data)
            if h is not None and h.proto == PROTO_TCP:
                got = self.flows.match_tcp(data[h.offset:], h.src)
                if got is None:
                    self.counters.unrelated += 1
                    return
                flow, tag, flags = got
                kind: AnswerKind = "syn-ack" if flags == "SA" else "rst"
                self._answer(flow, tag, pkt.ts_ns, h.src, kind, "", True, h.ttl)
                return
        icmp = parse_ip(data)
        if icmp is None or not icmp.cksum_ok:
            self.counters.malformed += 1
            return
        matched = self.flows.match(icmp)
        if matched is None:
            self.counters.unrelated += 1
            return
        if icmp.kind == "echo-reply":
            kind, note, final = "echo-reply", "", True
        else:
            kind, note, final = classify_error(icmp)
        self._answer(matched[0], matched[1], pkt.ts_ns, icmp.src, kind, note, final, icmp.ttl)

    def next_deadline(self) -> int | None:
        if self._done:
            return None
        times = [a.sent_ns + self._timeout(a.probe.ttl) for a in self._flying
                 if a.sent_ns is not None]
        times += [self._give_up_at(p) for p in self._waiting()]
        times += [self._resume[t] for t in (self.frontier - 1, self.frontier) if t in self._resume]
        if self.t.pause and self._last_send is not None:
            times.append(self._last_send + self.t.pause)
        # What is due now was handled by poll or waits for a probe in flight.
        times = [t for t in times if t > self._now]
        return min(times) if times else None

    def take_events(self) -> list[MdaEvent]:
        """Hops reported since the last call, in TTL order."""
        out, self._events = self._events, []
        return out

    # -- sending --------------------------------------------------------------------
    def _may_send(self, now: int, sends: list[Send]) -> bool:
        if len(self._flying) >= self.inflight:
            return False
        if self.t.pause:
            # -z: one probe per poll, and none before the pause has passed.
            return not sends and (self._last_send is None or now >= self._last_send + self.t.pause)
        return True

    def _attempt(self, p: _Probe) -> Send:
        tag = self._tag
        self._tag = (self._tag + 1) % TAG_SPACE
        self._tags.pop(tag, None)
        att = _Attempt(tag, p)
        self._tags[tag] = att
        self._flying.append(att)
        p.current = att
        self._sent_at[p.ttl] = self._sent_at.get(p.ttl, 0) + 1
        return Send(self.spec.dst, self.flows.build(p.flow, tag), ttl=p.ttl,
                    channel=self.spec.method, meta=att)

    def _waiting(self) -> list[_Probe]:
        """Probes whose last try was lost and that may still be tried again."""
        return [p for ttl in (self.frontier - 1, self.frontier)
                for p in self._probes.get(ttl, {}).values()
                if not p.done and p.current is None and p.first_ns is not None]

    def _open(self, ttl: int, now: int) -> bool:
        """Whether a try at `ttl` may leave now: past the pause after a loss, within the window."""
        if now < self._resume.get(ttl, 0):
            return False
        flying = sum(1 for a in self._flying if a.probe.ttl == ttl)
        return flying < int(self._window.get(ttl, self.inflight))

    def _outstanding(self, ttl: int) -> int:
        return sum(1 for p in self._probes.get(ttl, {}).values() if not p.done)

    # -- the algorithm --------------------------------------------------------------
    def _position(self, flow: int, ttl: int) -> str | None:
        """Where `flow` is known to be at `ttl`: an address, STAR, _ROOT, or None (unknown)."""
        if ttl < self.first_ttl:
            return _ROOT
        p = self._probes.get(ttl, {}).get(flow)
        if p is not None and p.addr is not None:
            return p.addr
        return self._single(ttl)

    def _single(self, ttl: int) -> str | None:
        """The one node every flow passes at a settled hop: its only interface, or STAR."""
        if ttl < self.first_ttl:
            return _ROOT
        if ttl >= self.frontier:
            return None
        addrs = {p.addr for p in self._probes.get(ttl, {}).values() if p.addr is not None}
        if not addrs:
            return STAR
        return addrs.pop() if len(addrs) == 1 else None

    def _preds(self, h: int) -> tuple[dict[str, list[int]], bool]:
        """The nodes at hop h-1 that lead on, each with the flows known to pass it.

        The flag says whether every flow passes the single one (no node control).
        """
        single = self._single(h - 1)
        if single is not None:
            final = any(p.final for p in self._probes.get(h - 1, {}).values())
            return ({} if final else {single: list(range(self._nflows))}), True
        groups: dict[str, list[int]] = {}
        for p in self._probes.get(h - 1, {}).values():
            if p.addr is not None and not p.final:
                groups.setdefault(p.addr, []).append(p.flow)
        return groups, False

    def _demand(self, h: int) -> tuple[bool, list[int | None], int]:
        """(stopping rule met, flows to probe at h (None: a fresh one), fresh flows for h-1)."""
        preds, every_flow = self._preds(h)
        at_h = self._probes.get(h, {})
        known = sum(len(f) for f in preds.values())
        met = True
        want: list[int | None] = []
        control = 0
        for flows in preds.values():
            seen: set[str] = set()
            done = active = 0
            for f in flows:
                p = at_h.get(f)
                if p is None:
                    continue
                if p.done:
                    done += 1
                    seen.add(p.addr or STAR)
                else:
                    active += 1
            need = stopping_point(max(1, len(seen)), self.confidence)
            if done >= need:
                continue
            met = False
            short = need - done - active
            if short <= 0:
                continue
            fresh = [f for f in flows if f not in at_h][:short]
            want += fresh
            short -= len(fresh)
            if short > 0:
                if every_flow:
                    want += [None] * short
                else:
                    # Fresh flows at h-1 land on this node in proportion to its
                    # share so far, or (a small sample) evenly among the nodes.
                    control = max(control, min(math.ceil(short * known / len(flows)),
                                               short * len(preds)))
        pending = self._outstanding(h - 1)
        return met, want, max(0, control - pending)

    def _wanted(self) -> list[tuple[int | None, int]]:
        h = self.frontier
        _met, want, control = self._demand(h)
        return [(f, h) for f in want] + [(None, h - 1)] * control

    # -- answers and time -----------------------------------------------------------
    def _answer(self, flow: int | None, tag: int, ts: int, src: str, kind: AnswerKind,
                note: str, final: bool, reply_ttl: int) -> None:
        att = self._tags.get(tag)
        if att is not None and flow is not None and att.probe.flow != flow:
            att = None  # our tag, but quoted from another flow: not our probe
        if not self.counters.claim(att, self._flying):
            return
        assert att.sent_ns is not None
        p = att.probe
        if p.done:
            # Another try answered first, or the hop was settled without it.
            self.counters.late += 1
            return
        p.done, p.current = True, None
        p.addr, p.rtt_ns, p.kind, p.note, p.final = src, max(0, ts - att.sent_ns), kind, note, final
        p.reply_ttl = reply_ttl
        self._heard[p.ttl] = max(ts, self._heard.get(p.ttl, 0))
        self._window[p.ttl] = min(float(self.inflight), self._window.get(p.ttl, self.inflight) + 1)
        self._losses.pop(p.ttl, None)
        self._resume.pop(p.ttl, None)
        if final and src == self.spec.dst and not note:
            self.reached = True

    def _timeout(self, ttl: int) -> int:
        here = [p.rtt_ns for p in self._probes.get(ttl, {}).values() if p.addr is not None]
        t = 3 * max(here) if here else self.t.beyond
        return min(self.t.wait, max(self.t.floor, t))

    def _give_up_at(self, p: _Probe) -> int:
        """A probe is given up once its hop has been silent for `wait` since it was first sent."""
        assert p.first_ns is not None
        return max(p.first_ns, self._heard.get(p.ttl, 0)) + self.t.wait

    def _advance(self, now: int) -> None:
        if now < self._now or self._done:
            return
        self._now = now
        self._expire(now)
        for p in self._waiting():
            if now >= self._give_up_at(p):
                p.done = True
        self._settle()

    def _expire(self, now: int) -> None:
        """Decide the tries whose timeout passed by `now`, earliest first.

        A loss at a hop that answers is most likely its rate limit: the hop
        gets fewer tries at once and a pause that grows with every loss in a
        row. The pause counts from the timeout itself, not from when the loop
        got round to it, so a live run and its replay schedule the same tries.
        """
        due, keep = [], []
        for att in self._flying:
            if att.sent_ns is not None:
                deadline = att.sent_ns + self._timeout(att.probe.ttl)
                if deadline <= now:
                    due.append((deadline, att.tag, att))
                    continue
            keep.append(att)
        self._flying = keep
        for deadline, _tag, att in sorted(due, key=lambda d: d[:2]):
            p = att.probe
            if p.current is not att or p.done:
                continue
            p.current = None
            ttl = p.ttl
            losses = self._losses[ttl] = self._losses.get(ttl, 0) + 1
            self._window[ttl] = max(1.0, self._window.get(ttl, self.inflight) / 2)
            step = self.t.backoff << min(losses - 1, 8)
            self._resume[ttl] = deadline + min(step, self.t.backoff_max)

    def _settle(self) -> None:
        """Move on while the frontier hop meets the stopping rule with nothing in progress."""
        while not self._done:
            h = self.frontier
            met, want, _control = self._demand(h)
            if self._outstanding(h):
                return
            # Out of flows, nothing left to wait for: the hop is as complete as it gets.
            stuck = self._nflows >= self.max_flows and not self._outstanding(h - 1) \
                and all(f is None for f in want)
            if not (met or stuck):
                return
            self._abandon(h - 1)
            self.frontier = h + 1
            self._report_upto(h - 1)
            preds, _ = self._preds(h + 1)
            if not preds or h >= self.max_ttl or self._gap(h):
                self._finish(h)

    def _abandon(self, ttl: int) -> None:
        """Node control for the next hop is over: what is still out at `ttl` is not needed."""
        probes = self._probes.get(ttl, {})
        for flow, p in list(probes.items()):
            if not p.done:
                p.done = True
                if p.current in self._flying:
                    self._flying.remove(p.current)
                del probes[flow]

    def _gap(self, h: int) -> bool:
        """Whether the last `gap_limit` hops up to h were all silent."""
        low = h - self.gap_limit + 1
        return low >= self.first_ttl and all(
            not any(p.addr for p in self._probes.get(t, {}).values()) for t in range(low, h + 1))

    def _finish(self, last: int) -> None:
        """End the run: report every hop up to `last`, the silent ones of a gap included."""
        self._report_upto(last)
        self._done = True

    def _report_upto(self, last: int) -> None:
        while self._reported <= last:
            hop = self._hop(self._reported)
            self.hops.append(hop)
            self._events.append(HopSettled(hop))
            self._reported += 1

    def _hop(self, ttl: int) -> MdaHop:
        probes = self._probes.get(ttl, {})
        by_addr: dict[str, list[_Probe]] = {}
        for p in sorted(probes.values(), key=lambda p: p.flow):
            if p.addr is not None:
                by_addr.setdefault(p.addr, []).append(p)
        interfaces = tuple(
            Interface(addr, tuple(p.flow for p in ps), min(p.rtt_ns for p in ps), ps[0].kind,
                      ps[0].note, ps[0].final, ps[0].reply_ttl)
            for addr, ps in sorted(by_addr.items(), key=lambda a: ipaddress.ip_address(a[0])))
        links: set[Link] = set()
        if ttl > self.first_ttl:
            for p in probes.values():
                here = p.addr if p.addr is not None else (STAR if not by_addr else None)
                before = self._position(p.flow, ttl - 1)
                if here is not None and before is not None:
                    links.add(Link(ttl - 1, before, here))
        lost = sum(1 for p in probes.values() if p.addr is None)
        return MdaHop(ttl, interfaces, tuple(sorted(links, key=lambda x: (x.src, x.dst))),
                      self._sent_at.get(ttl, 0), len(probes), lost)
