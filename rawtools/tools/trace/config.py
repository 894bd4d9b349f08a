"""A trace as asked for, checked once for the CLI and the Python API alike.

`trace_config` is the only way to a `TraceConfig`: `rawtools trace` calls it
with the parsed flags and `rawtools.trace()` with its keyword arguments, so
both refuse what Linux traceroute refuses, with the same words, and turn
seconds into the engine's nanoseconds the same way.
"""

from __future__ import annotations

from rawtools.errors import UsageError
from rawtools.tools.options import choice, seconds, texts, whole
from rawtools.tools.trace.hops import MS
from rawtools.values import field, mutable
from rawtools.wire.probes import METHODS

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from rawtools.engine import SocketKind
    from rawtools.wire.probes import Method

DEFAULT_PORT: dict[Method, int] = {"udp": 33434, "tcp": 80, "icmp": 0}
MAX_CYCLES = 1_000_000
DEFAULT_GAP = 5
"""Silent hops past the last that answered after which a trace gives up (scamper's
gap limit): a destination that drops the probes ends the trace there."""
MDA_FLOWS = 4096
"""The most flows --mda numbers: UDP flows take the ports from -p up, one each."""


@mutable
class Timing:
    """The clock knobs; all in nanoseconds.

    `wait` caps how long one probe is waited for and how long a hop may keep
    being retried (traceroute's -w); `floor` is the least time an answer is
    waited for; `retry` the least time between two tries of a hop that has
    not answered yet. A hop that never answered is retried for `grace` when
    it is alone in its silence with answers beyond it (a router that sends
    no errors), `long_grace` when several hops are silent at once (rate
    limits, which refill in about a second, look like that) or when the
    destination is known to be there, and `gap_grace` past the last hop that
    answered (a destination that drops the probes). `beyond` is the timeout
    of probes past the last answering hop, `pause` the gap between two
    sends (-z). --mda paces the retries of a hop that answers now and then
    with gaps growing from `backoff` up to `backoff_max`.
    """

    wait: int = 5_000 * MS
    floor: int = 50 * MS
    retry: int = 100 * MS
    grace: int = 200 * MS
    long_grace: int = 1_500 * MS
    gap_grace: int = 500 * MS
    beyond: int = 100 * MS
    pause: int = 0
    backoff: int = 100 * MS
    backoff_max: int = 500 * MS


@mutable
class TraceConfig:
    """Everything a trace is asked to do, validated."""

    host: str | None
    method: Method = "udp"
    version: int | None = None
    first_ttl: int = 1
    max_ttl: int = 30
    nqueries: int = 3
    inflight: int = 16
    timing: Timing = field(default_factory=Timing)
    port: int | None = None
    paris: bool | None = None
    source: str | None = None
    device: str | None = None
    mechanism: SocketKind | None = None
    cycles: int = 1
    gap: int = DEFAULT_GAP
    explain: bool = False
    cycle_gap: float = 0.0
    record: str | None = None
    replay: str | None = None
    max_ttl_given: bool = True
    method_given: bool = True
    mda: bool = False
    confidence: int = 95
    dot: str | None = None


def _check_port_range(method: Method, port: int, paris: bool | None, max_ttl: int,
                      nqueries: int) -> None:
    """Classic UDP probes go to rising ports: every one of them must exist.

    traceroute's reckoning, base + max_ttl * nqueries, here with one more for
    the scout (tag 0 at the base port): a base so high that the last probes
    would pass 65535 is refused now rather than failing at sendto midway.
    """
    if method != "udp" or paris:
        return
    top = 65535 - max_ttl * nqueries
    if port > top:
        raise UsageError(f"invalid port (-p): '{port}': UDP probes use ports {port} to "
                         f"{port + max_ttl * nqueries} with -m {max_ttl} -q {nqueries}; "
                         f"at most {top}")


def trace_config(host: str | None = None, *, method: Method | None = None,
                 version: int | None = None, first_ttl: int = 1, max_ttl: int | None = None,
                 nqueries: int = 3, wait: float = 5.0, inflight: int = 16, pause: float = 0.0,
                 port: int | None = None, paris: bool | None = None, source: str | None = None,
                 interface: str | None = None, mechanism: SocketKind | None = None,
                 cycles: int = 1, explain: bool = False, record: str | None = None,
                 replay: str | None = None, mda: bool = False, confidence: int = 95,
                 dot: str | None = None, gap: int = DEFAULT_GAP) -> TraceConfig:
    """Check every value and build the trace's configuration.

    `wait` is traceroute's -w and `pause` its -z, both in seconds; several
    `cycles` are spaced a second apart, mtr's pace, so that routers' ICMP
    budgets refill between rounds; 0 cycles run until stopped (--watch).
    `gap` silent hops after the last that answered end the trace (--gap).
    `method` (UDP) and `max_ttl` (30) left None are, in a replay, what the
    recording shows.
    """
    method_given, max_ttl_given = method is not None, max_ttl is not None
    if method is not None:
        choice("method", method, METHODS)
    method = method if method is not None else "udp"
    max_ttl = 30 if max_ttl is None else max_ttl
    if host is not None and (not isinstance(host, str) or not host):
        raise UsageError(f"invalid host: {host!r}")
    texts(source=source, interface=interface, record_file=record, replay_file=replay)
    if host is None and replay is None:
        raise UsageError("a host to trace is needed")
    whole("max hops (-m)", max_ttl, 1, 255)
    whole("first hop (-f)", first_ttl, 1, 255)
    if first_ttl > max_ttl:
        raise UsageError(f"first hop {first_ttl} is beyond max hops {max_ttl}")
    whole("probes per hop (-q)", nqueries, 1, 10)
    whole("simultaneous probes (-N)", inflight, 1, 65535)
    wait_ns = seconds("wait (-w)", wait)
    pause_ns = seconds("pause (-z)", pause, allow_zero=True)
    if port is not None:
        whole("port (-p)", port, 1, 65535)
        _check_port_range(method, port, paris or mda, max_ttl, nqueries)
    whole("cycles (-c)", cycles, 0, MAX_CYCLES)
    whole("gap limit (--gap)", gap, 1, 255)
    if version not in (None, 4, 6):
        raise UsageError(f"invalid IP version: {version!r} (4 or 6)")
    if mechanism is not None:
        choice("socket", mechanism, ("raw", "dgram"))
    if explain and replay is not None:
        raise UsageError("--explain re-probes the network; it cannot run on a replay")
    _check_mda(mda, confidence, dot, method, paris, port, cycles, explain, replay)
    return TraceConfig(host=host, method=method, version=version, first_ttl=first_ttl,
                       max_ttl=max_ttl, nqueries=nqueries, inflight=inflight,
                       timing=Timing(wait=wait_ns, pause=pause_ns), port=port, paris=paris,
                       source=source, device=interface, mechanism=mechanism, cycles=cycles,
                       gap=gap, explain=explain, cycle_gap=0.0 if cycles == 1 else 1.0,
                       record=record, replay=replay, max_ttl_given=max_ttl_given,
                       method_given=method_given, mda=mda, confidence=confidence, dot=dot)


def _check_mda(mda: bool, confidence: int, dot: str | None, method: Method, paris: bool | None,
               port: int | None, cycles: int, explain: bool, replay: str | None) -> None:
    """--mda, --confidence and --dot: what they need and what they exclude."""
    if not isinstance(mda, bool):
        raise UsageError(f"invalid mda: {mda!r} (True or False)")
    texts(dot_file=dot)
    whole("confidence (--confidence)", confidence, 50, 99)
    if not mda:
        if dot is not None or confidence != 95:
            raise UsageError(f"{'--dot' if dot is not None else '--confidence'} belongs to "
                             "--mda: give --mda too")
        return
    if cycles != 1:
        raise UsageError("--mda finds every path in one run; it cannot be combined with "
                         "-c or --report")
    if explain:
        raise UsageError("--mda cannot be combined with --explain")
    if replay is not None:
        raise UsageError("--mda cannot run on a replay (--record works, --replay not yet)")
    if paris:
        raise UsageError("--mda varies the flow on purpose; --paris keeps it fixed: "
                         "give one of them")
    if method == "udp" and port is not None and port > 0x10000 - MDA_FLOWS:
        raise UsageError(f"invalid port (-p): '{port}': --mda's UDP flows use ports {port} "
                         f"and up, one each for up to {MDA_FLOWS} flows; at most "
                         f"{0x10000 - MDA_FLOWS}")
