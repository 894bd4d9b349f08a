"""Turning ping events into iputils' (and, for many targets, fping's) text.

The strings follow iputils ping 2021+ closely, so that scripts and eyes
used to it keep working: the header, the per-reply line with its time
format that narrows with size, the `From ...` lines for router errors, the
statistics block with `+N duplicates`/`+N errors` and `pipe N`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from rawtools.tools.icmpwords import describe_error
from rawtools.tools.ping.engine import PingEngine, RttStats, Target, rtt_stats
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

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from typing import IO


def fmt_rtt(us: int) -> str:
    """iputils' reply time: three decimals below 1 ms, fewer as it grows."""
    if us >= 100000 - 50:
        return f"{(us + 500) // 1000}"
    if us >= 10000 - 5:
        v = us + 50
        return f"{v // 1000}.{(v % 1000) // 100:01d}"
    if us >= 1000:
        v = us + 5
        return f"{v // 1000}.{(v % 1000) // 10:02d}"
    return f"{us // 1000}.{us % 1000:03d}"


def fmt_ms3(us: int) -> str:
    """A microsecond count as milliseconds with three decimals (statistics)."""
    return f"{us // 1000}.{us % 1000:03d}"


class TextRenderer:
    """Prints a single-target run the way iputils ping does."""

    def __init__(self, out: IO[str] | None = None, *, quiet: bool = False,
                 timestamps: bool = False, flood: bool = False,
                 name_of: Callable[[str], str] | None = None) -> None:
        self.out = out or sys.stdout
        self.quiet = quiet
        self.timestamps = timestamps
        self.flood = flood
        self.name_of = name_of or (lambda addr: addr)

    def header(self, target: Target, size: int, pattern: bytes, source: str | None,
               device: str | None) -> None:
        """iputils' first line; `from SRC DEV:` only when -I was given."""
        if pattern:
            self.out.write("PATTERN: 0x" + pattern.hex() + "\n")
        frm = f"from {source or ''} {device or ''}: " if (source or device) else ""
        if target.version == 6:
            self.out.write(f"PING {target.name}({target.addr}) {frm}{size} data bytes\n")
        else:
            self.out.write(f"PING {target.name} ({target.addr}) {frm}{size}({size + 28}) "
                           "bytes of data.\n")
        self.out.flush()

    def _prefix(self, ts_ns: int) -> str:
        if not self.timestamps:
            return ""
        sec, ns = divmod(ts_ns, 1_000_000_000)
        return f"[{sec}.{ns // 1000:06d}] "

    def event(self, ev: PingEvent) -> None:
        if self.flood:
            self._flood(ev)
        elif not self.quiet and (line := self._line(ev)) is not None:
            self.out.write(self._prefix(ev.ts_ns) + line + "\n")
            self.out.flush()

    def _flood(self, ev: PingEvent) -> None:
        """iputils -f: a dot per probe, a backspace per reply, E per error."""
        match ev:
            case Sent():
                self.out.write(".")
            case Reply(dup=False):
                self.out.write("\b \b")
            case RouterError():
                self.out.write("E")
            case _:
                return
        self.out.flush()

    def _line(self, ev: PingEvent) -> str | None:
        name_of = self.name_of
        match ev:
            case Reply(icmp=i, seq=seq, rtt_ns=rtt, dup=dup):
                dup_text = " (DUP!)" if dup else ""
                return (f"{i.length} bytes from {name_of(i.src)}: icmp_seq={seq} ttl={i.ttl} "
                        f"time={fmt_rtt(rtt // 1000)} ms{dup_text}")
            case RouterError(icmp=i, seq=seq):
                return f"From {name_of(i.src)} icmp_seq={seq} {describe_error(i)}"
            case Outstanding(seq=seq):
                return f"no answer yet for icmp_seq={seq}"
            case Corrupt(icmp=i, seq=seq):
                return (f"{i.length} bytes from {name_of(i.src)}: icmp_seq={seq} "
                        "(BAD CHECKSUM!) skipped")
        return None

    def summary(self, engine: PingEngine) -> None:
        t = engine.targets[0]
        elapsed_ms = engine.elapsed_ms
        if self.flood:
            self.out.write("\n")
        self.out.write(f"\n--- {t.name} ping statistics ---\n")
        parts = [f"{t.transmitted} packets transmitted", f"{t.received} received"]
        if t.duplicates:
            parts.append(f"+{t.duplicates} duplicates")
        if t.corrupted:
            parts.append(f"+{t.corrupted} corrupted")
        if t.errors:
            parts.append(f"+{t.errors} errors")
        loss = _loss_int(t)
        parts.append(f"{loss}% packet loss")
        parts.append(f"time {elapsed_ms}ms")
        self.out.write(", ".join(parts) + "\n")
        st = rtt_stats(t.stat_rtts_ns)
        if st is not None:
            line = (f"rtt min/avg/max/mdev = {fmt_ms3(st.min_us)}/{fmt_ms3(st.avg_us)}/"
                    f"{fmt_ms3(st.max_us)}/{fmt_ms3(st.mdev_us)} ms")
            if engine.pipe > 1:
                line += f", pipe {engine.pipe}"
            self.out.write(line + "\n")
        self.out.flush()


def _loss_int(t: Target) -> int:
    """iputils truncates the loss percentage to an integer."""
    if not t.transmitted:
        return 0
    return (t.transmitted - t.received) * 100 // t.transmitted


def _ms2(us: int) -> str:
    return f"{us / 1000:.2f}"


class MultiRenderer:
    """fping-style lines for many targets: per reply with -c, else alive/unreachable."""

    def __init__(self, out: IO[str] | None = None, err: IO[str] | None = None, *,
                 per_reply: bool, quiet: bool = False) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.per_reply = per_reply
        self.quiet = quiet
        self.width = 0

    def start(self, targets: list[Target]) -> None:
        self.width = max((len(t.name) for t in targets), default=0)

    def event(self, ev: PingEvent) -> None:
        t = ev.target
        match ev:
            case Reply(icmp=i, rtt_ns=rtt, dup=dup, number=number) if self.per_reply \
                    and not self.quiet:
                rtts = t.rtts_ns
                avg = sum(rtts) // len(rtts) // 1000 if rtts else 0
                dup_text = " [<- DUP]" if dup else ""
                self.out.write(f"{t.name:<{self.width}} : [{number}], {i.length} bytes, "
                               f"{_ms2(rtt // 1000)} ms ({_ms2(avg)} avg, "
                               f"{_loss_int(t)}% loss){dup_text}\n")
            case Alive() if not self.per_reply:
                self.out.write(f"{t.name} is alive\n")
            case Unreachable() if not self.per_reply:
                self.out.write(f"{t.name} is unreachable\n")
            case NoRoute(reason=reason) if not self.per_reply:
                self.out.write(f"{t.name} has no route ({reason})\n")
            case RouterError(icmp=i) if not self.quiet:
                self.err.write(f"{describe_error(i)} from {i.src} for ICMP Echo sent to "
                               f"{t.addr}\n")
                self.err.flush()
            case _:
                return
        self.out.flush()

    def summary(self, engine: PingEngine) -> None:
        if self.per_reply:
            self.out.write("\n")
            for t in engine.targets:
                if t.no_route is not None:
                    self.out.write(f"{t.name:<{self.width}} : no route ({t.no_route})\n")
                    continue
                st: RttStats | None = rtt_stats(t.rtts_ns)
                line = (f"{t.name:<{self.width}} : xmt/rcv/%loss = "
                        f"{t.transmitted}/{t.received}/{_loss_int(t)}%")
                if st:
                    line += f", min/avg/max = {_ms2(st.min_us)}/{_ms2(st.avg_us)}/{_ms2(st.max_us)}"
                self.out.write(line + "\n")
        alive = sum(1 for t in engine.targets if t.received)
        routeless = f" ({engine.routeless} no route)" if engine.routeless else ""
        self.out.write(f"{len(engine.targets)} targets, {alive} alive, "
                       f"{len(engine.targets) - alive} unreachable{routeless}, "
                       f"time {engine.duration_ms}ms\n")
        self.out.flush()
