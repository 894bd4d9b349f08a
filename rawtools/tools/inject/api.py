"""`rawtools.inject()`: the CLI's engine and options, the figures as a dataclass."""

from __future__ import annotations

from rawtools.errors import UsageError
from rawtools.io.inject import Backend
from rawtools.tools.inject.config import inject_config
from rawtools.tools.inject.report import InjectResult, build_result
from rawtools.tools.inject.session import execute

__all__ = ["InjectResult", "inject"]


def inject(file: str, interface: str, filter: str = "", *, backend: Backend | None = None,
           speed: float | None = None, pps: float | None = None, topspeed: bool = False,
           loop: int = 1, count: int | None = None, dmac: str | None = None,
           smac: str | None = None) -> InjectResult:
    """Send the frames of capture `file` out of `interface`; return the figures.

    The arguments are the CLI's flags by name: `filter` a BPF expression
    picking frames; one pacing at most (`speed` times the recorded rate,
    `pps` frames a second, or `topspeed`; none: as recorded); `loop` passes
    over the capture (0: until `count` frames); `dmac`/`smac` the Ethernet
    addresses given to raw-IP or cooked captures. Needs root or CAP_NET_RAW.
    Raises `rawtools.errors.UsageError` for values the CLI would refuse, and
    other `rawtools.errors.RawtoolsError` subclasses (a missing interface,
    no permission, an unreadable capture) with the CLI's one-line messages.
    """
    if loop == 0 and count is None:
        raise UsageError("loop=0 repeats until stopped; give a count as well")
    cfg = inject_config(file, interface, filter, backend=backend, speed=speed, pps=pps,
                        topspeed=topspeed, loop=loop, count=count, dmac=dmac, smac=smac)
    return build_result(execute(cfg))
