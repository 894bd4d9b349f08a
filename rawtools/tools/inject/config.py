"""An inject run as asked for, checked once for the CLI and the Python API alike.

`inject_config` is the only way to an `InjectConfig`: `rawtools inject`
calls it with the parsed flags and `rawtools.inject()` with its keyword
arguments, so both refuse the same values with the same one line (a rate
of nan, inf, 0 or 1e300, a malformed MAC address, two pacings at once).
"""

from __future__ import annotations

import math

from rawtools.errors import UsageError
from rawtools.io.inject import Backend
from rawtools.tools.inject.engine import InjectOptions, Pacing
from rawtools.tools.options import MAX_SECONDS, choice, whole
from rawtools.values import frozen
from rawtools.wire.ethernet import BROADCAST, parse_mac

BACKENDS: tuple[Backend, ...] = ("pcap", "packet")
MAX_COUNT = 2**63 - 1
MAX_LOOPS = 2**31 - 1
MAX_RATE = 1e9
"""Frames a second at most (--pps); no link carries more."""
MIN_RATE = 1 / MAX_SECONDS
"""One frame in the longest wait any option may ask for (about 24.8 days)."""
MAX_SPEED = 1e6
MIN_SPEED = 1e-6


@frozen
class InjectConfig:
    """Everything a run needs before anything is opened.

    `smac` None means the interface's own address, known once it is open.
    """

    file: str
    interface: str
    filter: str
    backend: Backend | None
    opts: InjectOptions
    dmac: bytes
    smac: bytes | None


def _rate(name: str, value: object, lo: float, hi: float) -> float:
    """A finite number within lo..hi."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"invalid {name}: {value!r} is not a number")
    if not math.isfinite(value) or not lo <= value <= hi:
        raise UsageError(f"invalid {name}: '{value:g}': a number from {lo:g} to {hi:g}")
    return float(value)


def _mac(name: str, value: object) -> bytes | None:
    if value is None:
        return None
    raw = parse_mac(value) if isinstance(value, str) else None
    if raw is None:
        raise UsageError(f"invalid {name}: {value!r} (six bytes in hex, e.g. 02:00:00:00:00:01)")
    return raw


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise UsageError(f"invalid {name}: {value!r}")
    return value


def _pacing(speed: float | None, pps: float | None, topspeed: bool) -> tuple[Pacing, float, float]:
    """(pacing, speed, pps) from the three mutually exclusive ways of asking."""
    given = [name for name, on in (("--speed", speed is not None), ("--pps", pps is not None),
                                    ("--topspeed", bool(topspeed))) if on]
    if len(given) > 1:
        raise UsageError(f"{' and '.join(given)} cannot be combined: give one pacing")
    if pps is not None:
        return "pps", 1.0, _rate("rate (--pps)", pps, MIN_RATE, MAX_RATE)
    if topspeed:
        return "topspeed", 1.0, 1.0
    if speed is not None:
        return "recorded", _rate("speed (--speed)", speed, MIN_SPEED, MAX_SPEED), 1.0
    return "recorded", 1.0, 1.0


def inject_config(file: str, interface: str, filter: str | None = None, *,
                  backend: Backend | None = None, speed: float | None = None,
                  pps: float | None = None, topspeed: bool = False, loop: int = 1,
                  count: int | None = None, dmac: str | None = None,
                  smac: str | None = None) -> InjectConfig:
    """Check every value and build the run's configuration.

    `speed` multiplies the recorded rate, `pps` sends at a fixed rate,
    `topspeed` as fast as the interface takes; none of them: as recorded.
    `loop` 0 repeats until stopped (or `count` frames). `dmac`/`smac` give
    header-less captures an Ethernet header (defaults: broadcast, and the
    interface's own address).
    """
    _text("capture file", file)
    _text("interface (-i)", interface)
    if filter is not None and not isinstance(filter, str):
        raise UsageError(f"invalid filter: {filter!r}")
    if backend is not None:
        choice("backend", backend, BACKENDS)
    pacing, speed_x, rate = _pacing(speed, pps, topspeed)
    whole("loop count (--loop)", loop, 0, MAX_LOOPS)
    if count is not None:
        whole("count (-c)", count, 1, MAX_COUNT)
    opts = InjectOptions(pacing=pacing, speed=speed_x, pps=rate, loops=loop, count=count)
    return InjectConfig(file, interface, filter or "", backend, opts,
                        _mac("--dmac", dmac) or BROADCAST, _mac("--smac", smac))
