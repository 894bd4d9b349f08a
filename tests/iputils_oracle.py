"""iputils ping's arithmetic and output, written out here independently of rawtools.

These are the oracles the ping tests compare rawtools with. They restate the
rules of iputils ping (ping/ping_common.c: the per-reply `time=` field and
the statistics its finish() prints) in a different form from rawtools'
implementation, so that a test that agrees with them is not rawtools checked
against itself:

- the summary uses exact fractions and floors (where rawtools uses `//`),
  and Newton's integer square root as iputils' llsqrt() iterates it (where
  rawtools uses math.isqrt);
- the reply time is decimal rounding "half up" to the number of decimals
  that keeps the figure to three or four significant digits (where rawtools,
  like iputils, adds 5, 50 or 500 microseconds and shifts thresholds).

`parse_ping` reads what iputils (or rawtools) printed, for the lab tests.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

INT_MAX = 2**31 - 1


def newton_isqrt(a: int) -> int:
    """iputils' llsqrt(), step by step: Newton's iteration from x = a while it falls.

    It returns the last x computed, the one that did not fall: the floor of
    the root, except for a = k*k - 1 where the last step went back up to k.
    """
    prev, x = None, a
    if a > 0:
        while prev is None or x < prev:
            prev, x = x, (x + a // x) // 2
    return x


def iputils_stats_us(rtts_us: list[int]) -> tuple[int, int, int, int]:
    """(min, avg, max, mdev) in microseconds from the RTTs of replies and duplicates.

    total = replies + duplicates; avg = floor(tsum / total); the variance is
    floor((tsum2 - floor(tsum^2 / total)) / total) while tsum < INT_MAX, else
    floor(tsum2 / total) - avg^2 (iputils' two branches); mdev its llsqrt().
    """
    total = len(rtts_us)
    tsum = sum(rtts_us)
    tsum2 = sum(Fraction(u) ** 2 for u in rtts_us)
    avg = math.floor(Fraction(tsum, total))
    if tsum < INT_MAX:
        var = math.floor((tsum2 - math.floor(Fraction(tsum) ** 2 / total)) / total)
    else:
        var = math.floor(tsum2 / total) - avg ** 2
    return min(rtts_us), avg, max(rtts_us), newton_isqrt(int(var))


def ms3(us: int) -> str:
    """`%ld.%03ld` of a microsecond count: milliseconds, three decimals, truncated."""
    return str(Decimal(us).scaleb(-3).quantize(Decimal("0.001")))


def iputils_rtt_line(rtts_us: list[int]) -> str:
    """The text iputils prints for these samples: `rtt min/avg/max/mdev = ... ms`."""
    return "rtt min/avg/max/mdev = " + "/".join(ms3(v) for v in iputils_stats_us(rtts_us)) \
        + " ms"


def iputils_time(us: int) -> str:
    """The `time=` figure iputils prints for a reply that took `us` microseconds.

    Below a millisecond: every microsecond, three decimals. From 1 ms on, the
    figure is rounded half up to two decimals; if that rounding reaches 10 ms,
    to one decimal instead; if that reaches 100 ms, to a whole number.
    """
    if us < 1000:
        return ms3(us)
    ms = Decimal(us).scaleb(-3)
    for places, limit in ((Decimal("0.01"), 10), (Decimal("0.1"), 100)):
        r = ms.quantize(places, rounding=ROUND_HALF_UP)
        if r < limit:
            return str(r)
    return str(ms.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def time_to_us(text: str) -> int:
    """`0.136` -> 136: exact only for a time printed with three decimals (below 1 ms)."""
    whole, _, frac = text.partition(".")
    if len(frac) != 3:
        raise ValueError(f"{text} ms is rounded: its microseconds are lost")
    return int(whole) * 1000 + int(frac)


REPLY = re.compile(r"^(\d+) bytes from (\S+): icmp_seq=(\d+) ttl=(\d+) time=([\d.]+) ms"
                   r"( \(DUP!\))?$")
COUNTS = re.compile(r"^(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?"
                    r"(?:, \+(\d+) corrupted)?(?:, \+(\d+) errors)?, ([\d.]+)% packet loss")
RTT = re.compile(r"^rtt min/avg/max/mdev = [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms")


@dataclass
class PingText:
    """What a ping printed: its replies and its statistics block."""

    replies: list[tuple[int, str, int, int, str, bool]] = field(default_factory=list)
    transmitted: int = -1
    received: int = -1
    duplicates: int = 0
    errors: int = 0
    loss: str = ""
    rtt_line: str | None = None

    @property
    def times(self) -> list[str]:
        return [r[4] for r in self.replies]


def parse_ping(text: str) -> PingText:
    out = PingText()
    for line in text.splitlines():
        if m := REPLY.match(line):
            out.replies.append((int(m[1]), m[2], int(m[3]), int(m[4]), m[5], bool(m[6])))
        elif m := COUNTS.match(line):
            out.transmitted, out.received = int(m[1]), int(m[2])
            out.duplicates, out.errors = int(m[3] or 0), int(m[5] or 0)
            out.loss = m[6]
        elif m := RTT.match(line):
            out.rtt_line = m[0]
    return out
