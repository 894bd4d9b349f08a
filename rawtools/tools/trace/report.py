"""Trace results as data: the API's `TraceResult`, mtr's per-hop figures, the JSON summary.

`build_result` turns a finished run into the `TraceResult` that
`rawtools.trace()` returns, and its `to_dict()` is `--json`'s last line,
so the two cannot drift apart.
"""

from __future__ import annotations

import math
from collections import Counter

from rawtools.jsonout import JsonResult, dumps, record
from rawtools.tools.trace.hops import MS, Counters, Hop
from rawtools.values import mutable

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from typing import Any, Literal

    from rawtools.engine import Mechanism
    from rawtools.tools.trace.hops import EndReason
    from rawtools.tools.trace.session import TraceRun
    from rawtools.wire.probes import Method

    TraceEnd = EndReason | Literal["interrupted"]


@mutable
class TraceResult(JsonResult):
    """A finished trace: `hops` of the last round, every round in `rounds`.

    `mechanism` is "raw" (answers read on raw sockets), "dgram" (error queue,
    unprivileged) or "replay"; `interrupted` is true when Ctrl-C (or the end
    of a recording) cut the run short. `end` says why the trace stopped:
    "reached", "unreachable" (an !H, !N, ... ended the path), "gap" (`gap`
    silent hops after the last that answered: the destination drops the
    probes, or sends no answers to them), "max-ttl", or "interrupted".
    """

    host: str
    addr: str
    method: Method
    version: int
    paris: bool
    mechanism: Mechanism
    reached: bool
    hops: list[Hop]
    rounds: list[list[Hop]]
    counters: Counters
    interrupted: bool = False
    end: TraceEnd = "max-ttl"
    gap: int | None = None

    @property
    def stats(self) -> list[HopStats]:
        """mtr's figures per hop over every round (`--report`'s rows): loss, RTTs, addresses."""
        return report_stats(self.rounds)

    def to_dict(self, report: bool | None = None) -> dict[str, Any]:
        """The final JSON object of `--json`, with mtr's figures per hop when `report`.

        `report` None decides as the CLI does for the rounds run: figures
        when there was more than one (`-c N`); `--report -c 1` is report=True.
        """
        c = self.counters
        summary = record(
            "trace", "summary", host=self.host, dst=self.addr, version=self.version,
            method=self.method, paris=self.paris, mechanism=self.mechanism,
            reached=self.reached, hops=len(self.hops), rounds=len(self.rounds), sent=c.sent,
            answers=c.answers, duplicates=c.duplicates, unrelated=c.unrelated, late=c.late,
            beyond=c.beyond, malformed=c.malformed, interrupted=self.interrupted,
            end=self.end, gap=self.gap)
        with_stats = len(self.rounds) > 1 if report is None else report
        if with_stats:
            summary["stats"] = [s.figures() for s in self.stats]
        return summary

    def to_json(self, report: bool | None = None) -> str:
        """`to_dict(report)` as the line `--json` prints, without its newline."""
        return dumps(self.to_dict(report))


def build_result(run: TraceRun) -> TraceResult:
    spec = run.spec
    end: TraceEnd = "interrupted" if run.interrupted else "reached" if run.reached \
        else run.end or "max-ttl"
    return TraceResult(run.host, spec.dst, spec.method, spec.version, spec.paris,
                       run.mechanism, run.reached, run.rounds[-1] if run.rounds else [],
                       run.rounds, run.counters, run.interrupted, end, run.gap)


class HopStats:
    """mtr's per-hop figures over the rounds of a report.

    Snt counts every try, retries included, and Loss% is the share of them
    that got no answer: a retry that identified a rate-limited hop does not
    make its lost tries disappear.
    """

    def __init__(self, ttl: int) -> None:
        self.ttl = ttl
        self.sent = 0
        self.lost = 0
        self.rtts: list[float] = []
        self.last: float | None = None
        self.addrs: Counter[str] = Counter()

    def add(self, hop: Hop) -> None:
        for p in hop.probes:
            self.sent += p.tries
            self.lost += p.lost
            if p.addr is not None and p.rtt_ns is not None:
                ms = p.rtt_ns / MS
                self.rtts.append(ms)
                self.last = ms
                self.addrs[p.addr] += 1

    @property
    def loss(self) -> float:
        """Loss% as mtr shows it: tries without an answer over tries sent."""
        return 100.0 * self.lost / self.sent if self.sent else 0.0

    @property
    def addr(self) -> str | None:
        """The address that answered most often (a hop behind a balancer has several)."""
        return self.addrs.most_common(1)[0][0] if self.addrs else None

    @property
    def avg(self) -> float | None:
        return sum(self.rtts) / len(self.rtts) if self.rtts else None

    @property
    def best(self) -> float | None:
        return min(self.rtts) if self.rtts else None

    @property
    def worst(self) -> float | None:
        return max(self.rtts) if self.rtts else None

    @property
    def stdev(self) -> float | None:
        """mtr's StDev: the population standard deviation of the RTTs, in ms."""
        avg = self.avg
        if avg is None:
            return None
        return math.sqrt(sum((x - avg) ** 2 for x in self.rtts) / len(self.rtts))

    def figures(self) -> dict[str, Any]:
        """The row as `--json` writes it; times in ms."""
        return {"ttl": self.ttl, "addr": self.addr, "addrs": sorted(self.addrs),
                "sent": self.sent, "loss_pct": self.loss, "last_ms": self.last,
                "avg_ms": self.avg, "best_ms": self.best, "worst_ms": self.worst,
                "stdev_ms": self.stdev}

    def __repr__(self) -> str:
        return (f"HopStats(ttl={self.ttl}, addr={self.addr!r}, sent={self.sent}, "
                f"loss={self.loss:.1f}%, avg={self.avg})")


def report_stats(rounds: list[list[Hop]]) -> list[HopStats]:
    """Per-TTL statistics over every round, up to where the path ends.

    A round that did not find the destination printed silent lines past it
    (up to its gap); once any round found where the path ends (the
    destination's answer, or an !H, !N, ...), lines past that are probes
    sent past the destination, nobody's samples, and have no row.
    """
    ends = [h.ttl for hops in rounds for h in hops
            if any(p.kind not in (None, "time-exceeded") for p in h.probes)]
    last = min(ends, default=None)
    stats: dict[int, HopStats] = {}
    for hops in rounds:
        for hop in hops:
            if last is None or hop.ttl <= last:
                stats.setdefault(hop.ttl, HopStats(hop.ttl)).add(hop)
    return [stats[t] for t in sorted(stats)]

