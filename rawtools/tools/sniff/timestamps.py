"""The time at the start of each line, in tcpdump's styles.

One `Timestamps` per capture serves both the per-packet and the batch path:
the default style keeps the last second it formatted, because consecutive
packets nearly always share it and `strftime` is then needed once a second,
not once a packet; `-ttt` keeps the previous packet's time.

A time whose seconds have bit 31 set (before 1970, or a file's 32-bit field
past 2038, which readers take as negative) prints as tcpdump prints it,
`[Error converting time]`; and like tcpdump, -ttt shows hours of the day
(a delta of 25 hours is `01:00:00`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

# -t none, (default) abs "HH:MM:SS.uuuuuu", -tt epoch seconds, -ttt delta to the previous.
TsStyle = Literal["abs", "none", "epoch", "delta"]
TS_STYLES: tuple[TsStyle, ...] = ("abs", "none", "epoch", "delta")

_NS = 1_000_000_000
# "000" to "999": the microseconds are printed as two of these, which is
# quicker than formatting the number (this runs for every packet).
_DIGITS3 = tuple(map("{:03d}".format, range(1000)))
# tcpdump tests `(unsigned)tv_sec & 0x80000000`; Python's & on a negative number agrees.
_BAD_SECONDS = 0x80000000
_ERROR = "[Error converting time] "


class Timestamps:
    """`stamp(ts_ns)`: the prefix of one packet's line, its trailing space included.

    `stamp` is the function of the chosen style itself, looked up once here,
    so a caller binding it to a local pays nothing per packet for the choice.
    """

    def __init__(self, style: TsStyle, *, utc: bool = False) -> None:
        if style not in TS_STYLES:
            raise ValueError(f"unknown timestamp style {style!r}")
        self.style = style
        self._prev_ns: int | None = None
        styles: dict[TsStyle, Callable[[int], str]] = {
            "abs": _clock_time(time.gmtime if utc else time.localtime), "none": self._none,
            "epoch": self._epoch, "delta": self._delta}
        self.stamp = styles[style]

    @staticmethod
    def _none(ts_ns: int) -> str:
        return ""

    @staticmethod
    def _epoch(ts_ns: int) -> str:
        sec, ns = divmod(ts_ns, _NS)
        if sec & _BAD_SECONDS:
            return _ERROR
        return f"{sec}.{_DIGITS3[ns // 1_000_000]}{_DIGITS3[ns // 1000 % 1000]} "

    def _delta(self, ts_ns: int) -> str:
        prev = self._prev_ns if self._prev_ns is not None else ts_ns
        self._prev_ns = ts_ns
        delta = ts_ns - prev
        sign = "-" if delta < 0 else " "
        d_sec, d_ns = divmod(abs(delta), _NS)
        if d_sec & _BAD_SECONDS:
            return sign + _ERROR
        h, rest = divmod(d_sec % 86400, 3600)
        return f"{sign}{h:02d}:{rest // 60:02d}:{rest % 60:02d}.{d_ns // 1000:06d} "


def _clock_time(clock: Callable[[float | None], time.struct_time]) -> Callable[[int], str]:
    """The default style, "HH:MM:SS.uuuuuu ", in the time zone `clock` converts to.

    A closure rather than a method: it runs for every packet, and its state
    (the start of the last second formatted, in ns, and that second's
    "HH:MM:SS.") is quicker to reach in closure cells than on an instance.
    """
    strftime = time.strftime
    digits = _DIGITS3
    second_ns = -1 << 80  # long before any packet
    hms = ""

    def stamp(ts_ns: int) -> str:
        nonlocal second_ns, hms
        ns = ts_ns - second_ns
        if ns >= _NS or ns < 0:
            sec = ts_ns // _NS
            if sec & _BAD_SECONDS:
                return _ERROR
            second_ns = sec * _NS
            ns = ts_ns - second_ns
            hms = strftime("%H:%M:%S", clock(sec)) + "."
        return f"{hms}{digits[ns // 1_000_000]}{digits[ns // 1000 % 1000]} "

    return stamp
