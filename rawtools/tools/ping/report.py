"""Ping results as data: the dataclasses of the Python API and the JSON lines.

One function turns a finished run into `PingResult`; the JSON summary is
that same result as a dict, so the API and `--json` cannot drift apart.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Literal

from rawtools.jsonout import JsonResult, record
from rawtools.tools.icmpwords import describe_error
from rawtools.tools.ping.engine import PingEngine, Target, rtt_stats
from rawtools.tools.ping.events import (
    Corrupt,
    NoRoute,
    Outstanding,
    PingEvent,
    Reply,
    RouterError,
    Unreachable,
)
from rawtools.tools.ping.session import PingRun
from rawtools.values import field, frozen, mutable

if TYPE_CHECKING:
    from rawtools.engine import Mechanism


@frozen
class ErrorSeen:
    """An ICMP error a router (or our own host) sent about one of our probes.

    `mtu` is the next-hop MTU a fragmentation-needed or packet-too-big
    carries (None for other errors): what path MTU discovery learns.
    """

    seq: int
    src: str
    type: int
    code: int
    text: str
    mtu: int | None = None


TargetState = Literal["alive", "unreachable", "no-route"]
"""A target's fate: it answered; it did not (silence or ICMP errors only); or the
kernel had no route to it, so it was never probed (`no_route` says why)."""


@mutable
class TargetResult:
    """Per-target figures; times in milliseconds, `clocks` counts RTT sources.

    `rtts_ms` holds the first reply to each probe; min/avg/max/mdev are taken,
    as iputils takes them, over those and the duplicates' RTTs too.

    `clocks` maps "kernel" (SO_TIMESTAMPNS), "pcap" (replayed file) or "user"
    to how many RTTs that clock produced.
    """

    host: str
    addr: str
    transmitted: int
    received: int
    duplicates: int
    errors: int
    corrupted: int
    loss_pct: float
    rtts_ms: list[float]
    min_ms: float | None
    avg_ms: float | None
    max_ms: float | None
    mdev_ms: float | None
    clocks: dict[str, int]
    errors_seen: list[ErrorSeen] = field(default_factory=list)
    state: TargetState = "unreachable"
    no_route: str | None = None

    @property
    def alive(self) -> bool:
        return self.received > 0


@mutable
class PingResult(JsonResult):
    """A whole run: one TargetResult per target, how it was done, how long.

    `elapsed_ms` is iputils' "time" (first to last probe sent); `duration_ms`
    runs to the end, waiting for replies included. `to_dict()` is the
    summary line of `--json`.
    """

    targets: list[TargetResult]
    mechanism: Mechanism
    ident: int
    elapsed_ms: int
    duration_ms: int

    @property
    def alive(self) -> list[str]:
        return [t.addr for t in self.targets if t.alive]

    def to_dict(self) -> dict[str, Any]:
        """The final JSON object: the fields as plain data, then `alive`."""
        return record("ping", "summary", **asdict(self), alive=self.alive)


def _target_result(t: Target) -> TargetResult:
    st = rtt_stats(t.stat_rtts_ns)

    def ms(us: int | None) -> float | None:
        return None if us is None else us / 1000

    return TargetResult(
        host=t.name, addr=t.addr, transmitted=t.transmitted, received=t.received,
        duplicates=t.duplicates, errors=t.errors, corrupted=t.corrupted,
        loss_pct=round(t.loss_pct, 3), rtts_ms=[r / 1e6 for r in t.rtts_ns],
        min_ms=ms(st.min_us if st else None), avg_ms=ms(st.avg_us if st else None),
        max_ms=ms(st.max_us if st else None), mdev_ms=ms(st.mdev_us if st else None),
        clocks=dict(t.clocks),
        errors_seen=[ErrorSeen(seq, i.src, i.type, i.code, describe_error(i), i.mtu)
                     for seq, i in t.errors_seen],
        state="alive" if t.received else "no-route" if t.no_route else "unreachable",
        no_route=t.no_route)


def build_result(run: PingRun) -> PingResult:
    e: PingEngine = run.engine
    return PingResult([_target_result(t) for t in e.targets],
                      run.mechanism, e.ident, e.elapsed_ms, e.duration_ms)


def _head(kind: str, ev: PingEvent, seq: int) -> dict[str, Any]:
    return {"type": kind, "target": ev.target.addr, "seq": seq, "ts": ev.ts_ns / 1e9}


def event_record(ev: PingEvent) -> dict[str, Any] | None:
    """The JSON line for an event (None for events only the text displays use)."""
    match ev:
        case Reply(icmp=i):
            return {**_head("reply", ev, ev.seq), "from": i.src, "bytes": i.length,
                    "ttl": i.ttl, "rtt_ms": ev.rtt_ns / 1e6, "clock": ev.clock, "dup": ev.dup}
        case RouterError(icmp=i):
            return {**_head("error", ev, ev.seq), "from": i.src, "icmp_type": i.type,
                    "icmp_code": i.code, "text": describe_error(i)}
        case Outstanding():
            return _head("outstanding", ev, ev.seq)
        case Corrupt():
            return _head("corrupt", ev, ev.seq)
        case Unreachable():
            return _head("unreachable", ev, 0)  # no probe of its own: seq 0, as rawtools/1 has it
        case NoRoute(reason=reason):
            return {**_head("no-route", ev, 0), "reason": reason}
    return None
