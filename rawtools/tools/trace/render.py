"""Trace results as Linux traceroute prints them, as mtr's report, and as JSON records.

The text keeps traceroute's exact spacing and habits (address printed again
only when it changes within a line, `*` for no answer, `!X` annotations after
the RTT) so that scripts and eyes used to it read ours unchanged. The ICMP
extension decoder (-e) is loaded only for -e, a start-up cost most traces
never need; `load_extensions` loads it before the sockets open, since root
may be given up by the time the first hop is printed and the interpreter's
files be out of the user's reach then.
"""

from __future__ import annotations

from collections.abc import Callable

from rawtools.tools.trace.hops import MS, Hop
from rawtools.tools.trace.report import HopStats, TraceResult

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from typing import Any

NameOf = Callable[[str], str]


def load_extensions() -> None:
    """Load the ICMP extension decoder now, while the interpreter's files are readable."""
    import rawtools.wire.icmpext  # noqa: F401

# What else to try when the destination never answered: another kind of probe
# (a firewall that drops one may pass the other), and --explain's verdict.
_OTHER_METHODS = {"udp": ["-I (ICMP echo)", "-T (TCP SYN)"],
                  "icmp": ["-U (UDP)", "-T (TCP SYN)"],
                  "tcp": ["-I (ICMP echo)", "-U (UDP)", "another port (-p)"]}


def header(host: str, addr: str, max_ttl: int, size: int) -> str:
    return f"traceroute to {host} ({addr}), {max_ttl} hops max, {size} byte packets"


def hop_line(hop: Hop, name_of: NameOf | None = None, extensions: bool = False) -> str:
    """One traceroute line: ` 3  198.18.2.2  0.412 ms  0.377 ms *`.

    A probe lost on the way is a star even when a retry of it answered: the
    retry's answer follows the star, marked, so a hop known only from a
    retry reads ` 5  * * * 198.18.4.2  0.105 ms (retry)`.
    """
    parts = [f"{hop.ttl:2d} "]
    last = None
    for p in hop.probes:
        if p.addr is None or p.retried:
            parts.append(" *")
        if p.addr is None:
            continue
        if p.addr != last:
            parts.append(" " + (name_of(p.addr) if name_of else p.addr))
            if extensions and p.packet:
                from rawtools.wire.icmpext import describe, parse_extensions

                ext = parse_extensions(p.packet)
                if ext:
                    parts.append(" " + describe(ext))
            last = p.addr
        parts.append(f"  {(p.rtt_ns or 0) / MS:.3f} ms")
        if p.note:
            parts.append(" " + p.note)
        if p.retried:
            parts.append(" (retry)")
    return "".join(parts)


def hop_record(hop: Hop, rnd: int | None = None, extensions: bool = False) -> dict[str, Any]:
    """The JSON event of one hop (rtt in milliseconds, null for a star).

    `tries` counts every probe sent for the slot and `answered_try` names the
    one answered (1: the probe itself; more: a retry, the probe was lost).
    """
    probes = []
    for p in hop.probes:
        rec: dict[str, Any] = {"addr": p.addr, "rtt_ms": p.rtt_ms, "kind": p.kind,
                               "note": p.note or None, "tries": p.tries,
                               "answered_try": p.answered_try, "reply_ttl": p.reply_ttl}
        if extensions and p.packet:
            from rawtools.wire.icmpext import as_json, parse_extensions

            ext = parse_extensions(p.packet)
            if ext:
                rec["extensions"] = as_json(ext)
        probes.append(rec)
    out: dict[str, Any] = {"ttl": hop.ttl, "probes": probes}
    if rnd is not None:
        out["round"] = rnd
    return out


def report_table(host: str, stats: list[HopStats], name_of: NameOf | None = None) -> str:
    """mtr --report's table: Loss%, Snt, Last, Avg, Best, Wrst, StDev per hop."""
    lines = [f"HOST: {host:<31}{'Loss%':>7}{'Snt':>6}{'Last':>7}{'Avg':>7}{'Best':>7}"
             f"{'Wrst':>7}{'StDev':>7}"]

    def num(v: float | None) -> str:
        return f"{v:7.1f}" if v is not None else f"{'---':>7}"

    for s in stats:
        f = s.figures()
        who = (name_of(f["addr"]) if name_of else f["addr"]) if f["addr"] else "???"
        lines.append(f"{s.ttl:3d}.|-- {who:<29}{f['loss_pct']:6.1f}%{f['sent']:6d}"
                     + "".join(num(f[k]) for k in ("last_ms", "avg_ms", "best_ms", "worst_ms",
                                                   "stdev_ms")))
    return "\n".join(lines)


def gap_line(result: TraceResult, explained: bool = False) -> str:
    """The last line of a trace that gave up past `result.gap` silent hops.

    It replaces the lines of stars up to the maximum TTL with what they
    mean and what to do about it.
    """
    heard = [h for h in result.hops if h.addrs]
    after = (f"the {result.gap} hops after hop {heard[-1].ttl} ({heard[-1].addrs[0]})"
             if heard else f"the first {result.gap} hops")
    options = _OTHER_METHODS[result.method]
    line = (f"{result.addr} not reached: no answer from {after}; if it drops "
            f"{result.method.upper()} probes, try {', '.join(options[:-1])} or {options[-1]}")
    # A destination out of ICMP errors for a moment is silent too; --explain,
    # pacing its probes, tells the two apart.
    return line if explained else line + "; --explain tells a filter from a rate limit"
