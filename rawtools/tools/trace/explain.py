"""--explain: why a hop showed stars, from probes re-sent one by one after the trace.

Sent slower than any ICMP rate limit refills: a hop that now answers every
probe was rate-limited; one that answers some is lossy; one that answers
only the other method filters ours; one that answers nothing sends no
errors at all (filtered, for whatever reason).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from rawtools.io.loop import Recorder, run
from rawtools.io.probesock import ProbeSocket
from rawtools.io.stop import Stop
from rawtools.tools.trace.config import DEFAULT_PORT, Timing
from rawtools.tools.trace.engine import TraceEngine
from rawtools.tools.trace.hops import Hop
from rawtools.values import mutable
from rawtools.wire.probes import ProbeSpec

if TYPE_CHECKING:
    from rawtools.wire.probes import Method

# Which other method tells "this router drops our kind of probe" from "this
# router sends no errors at all".
OTHER_METHOD: dict[Method, Method] = {"udp": "icmp", "icmp": "udp", "tcp": "icmp"}
EXPLAIN_GAP = 1_050_000_000  # just over the 1 s an IPv4 router needs per error
EXPLAIN_PROBES = 3

Verdict = Literal["rate-limited", "lossy", "filtered"]


@mutable
class Explanation:
    """The verdict on one starred hop and the probes it rests on."""

    ttl: int
    verdict: Verdict
    method: Method
    answered: int
    sent: int
    other_method: Method | None = None
    other_answered: int = 0
    other_sent: int = 0
    addr: str | None = None

    def text(self) -> str:
        own = f"{self.answered}/{self.sent} {self.method}"
        other = (f", {self.other_answered}/{self.other_sent} {self.other_method}"
                 if self.other_method and self.other_sent else "")
        why = {"rate-limited": "answers every probe when paced: its ICMP rate limit ate the "
                               "stars",
               "lossy": "answers only some probes even when paced",
               "filtered": (f"drops or ignores {self.method} probes but answers "
                            f"{self.other_method}" if self.other_answered else
                            "sends no ICMP errors at all (filtered or configured silent)")}
        return (f"hop {self.ttl}: {self.verdict}: {why[self.verdict]} ({own}{other} probes "
                f"answered, {EXPLAIN_GAP / 1e9:g} s apart)")


def _slow(spec: ProbeSpec, transport: ProbeSocket, ttl: int, recorder: Recorder | None,
          stop: Stop | None, tag: int) -> tuple[Hop, int]:
    """Probes at one TTL, one at a time, `EXPLAIN_GAP` apart, no retries."""
    gap = EXPLAIN_GAP
    timing = Timing(wait=gap - 100_000_000, floor=gap - 100_000_000, pause=gap)
    engine = TraceEngine(spec, ttl, ttl, EXPLAIN_PROBES, 1, timing, scout=False,
                         first_tag=tag, retry=False)
    run(engine, transport, recorder, stop)
    hops = engine.all_hops()
    return hops[0] if hops else Hop(ttl, []), engine.next_tag


def explain(spec: ProbeSpec, transport: ProbeSocket, other: ProbeSocket, hops: list[Hop],
            recorder: Recorder | None, stop: Stop | None, tag: int) -> list[Explanation]:
    """Re-probe every hop that showed a star, slowly, and with `other`'s method too.

    Of the silent hops that end a trace (a destination that drops the probes,
    past which nothing answers) only the first is re-probed: the others
    would take seconds each to say the same.
    """
    heard = [h.ttl for h in hops if h.addrs]
    last = heard[-1] if heard else hops[0].ttl - 1 if hops else 0
    hops = [h for h in hops if h.ttl <= last + 1]
    other_spec = ProbeSpec(other.method, spec.version, other.src, spec.dst,
                           DEFAULT_PORT[other.method], other.method != "udp",
                           ident=other.ident, sport=other.sport, seq_base=other.seq_base,
                           size=spec.size)
    out = []
    for hop in hops:
        if all(p.addr is not None for p in hop.probes) or (stop is not None and stop.requested):
            continue
        same, tag = _slow(spec, transport, hop.ttl, recorder, stop, tag)
        got = [p for p in same.probes if p.addr is not None]
        addr = got[0].addr if got else None
        if got and len(got) == len(same.probes):
            out.append(Explanation(hop.ttl, "rate-limited", spec.method, len(got),
                                   len(same.probes), addr=addr))
            continue
        if got:
            out.append(Explanation(hop.ttl, "lossy", spec.method, len(got), len(same.probes),
                                   addr=addr))
            continue
        alt, tag = _slow(other_spec, other, hop.ttl, recorder, stop, tag)
        alt_got = [p for p in alt.probes if p.addr is not None]
        out.append(Explanation(hop.ttl, "filtered", spec.method, 0, len(same.probes),
                               other.method, len(alt_got), len(alt.probes),
                               alt_got[0].addr if alt_got else None))
    return out
