"""One multipath trace from options to results: the probe socket, the loop, the hops.

The CLI (`trace --mda`) and the Python API (`rawtools.trace_mda`) both come
through `execute_mda`, so they cannot differ in what they send. The socket is
the one a Paris trace uses (`ProbeSocket`): a single UDP socket sends every
flow, since a UDP flow differs only in its destination port, which each
sendto names; TCP and ICMP write the flow into the header they build.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rawtools.io.loop import Recorder, run
from rawtools.io.pcapfile import PcapWriter
from rawtools.io.privileges import drop_privileges
from rawtools.io.probesock import ProbeSocket
from rawtools.io.stop import Stop
from rawtools.jsonout import JsonResult, record
from rawtools.net.resolve import resolve
from rawtools.tools.trace.config import DEFAULT_PORT, MDA_FLOWS, TraceConfig
from rawtools.tools.trace.hops import Counters
from rawtools.tools.trace.mda import STAR, HopSettled, Link, MdaEngine, MdaHop
from rawtools.values import mutable
from rawtools.wire.flows import FlowProbes
from rawtools.wire.probes import ProbeSpec

if TYPE_CHECKING:
    from rawtools.engine import Mechanism
    from rawtools.wire.probes import Method


@mutable
class MdaResult(JsonResult):
    """A finished multipath trace: every hop's interfaces and the links between them.

    `src` is the address probes left from; `confidence` the percentage of
    the stopping rule; `mechanism` "raw" or "dgram" as for `TraceResult`;
    `interrupted` is true when Ctrl-C cut the run short, and then the hops
    are those settled so far.
    """

    host: str
    addr: str
    src: str
    method: Method
    version: int
    mechanism: Mechanism
    confidence: int
    reached: bool
    hops: list[MdaHop]
    counters: Counters
    interrupted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The final JSON object of `--mda --json`."""
        c = self.counters
        return record(
            "trace", "summary", host=self.host, dst=self.addr, src=self.src,
            version=self.version, method=self.method, mda=True, confidence=self.confidence,
            mechanism=self.mechanism, reached=self.reached, hops=len(self.hops),
            paths=self.paths, interfaces=sum(len(h.interfaces) for h in self.hops),
            links=[{"ttl": link.ttl, "from": link.src, "to": link.dst} for link in self.links],
            sent=c.sent, answers=c.answers, duplicates=c.duplicates, unrelated=c.unrelated,
            late=c.late, malformed=c.malformed, interrupted=self.interrupted)

    @property
    def links(self) -> list[Link]:
        """Every link, hop by hop."""
        return [link for hop in self.hops for link in hop.links]

    @property
    def paths(self) -> int:
        """How many distinct paths the links make, from the first hop to where each ends."""
        if not self.hops:
            return 0
        onward: dict[tuple[int, str], list[str]] = {}
        for link in self.links:
            onward.setdefault((link.ttl, link.src), []).append(link.dst)
        count: dict[str, int] = {}
        for hop in reversed(self.hops):
            here = hop.addrs or [STAR]
            count = {a: sum(count.get(b, 0) for b in onward.get((hop.ttl, a), [])) or 1
                     for a in here}
        return sum(count.values())


def execute_mda(cfg: TraceConfig, on_start: Callable[[MdaResult], None] | None = None,
                on_hop: Callable[[MdaHop], None] | None = None,
                stop: Stop | None = None) -> MdaResult:
    """Run the multipath trace of `cfg`; `on_hop(hop)` as each hop is settled."""
    assert cfg.host is not None
    addr, version = resolve(cfg.host, cfg.version)
    transport = ProbeSocket(cfg.method, version, addr, cfg.mechanism, cfg.source, cfg.device)
    try:
        drop_privileges()
        port = cfg.port if cfg.port is not None else DEFAULT_PORT[cfg.method]
        spec = ProbeSpec(cfg.method, version, transport.src, addr, port, True,
                         ident=transport.ident, sport=transport.sport,
                         seq_base=transport.seq_base, size=(40 if version == 6 else 20) + 40)
        engine = MdaEngine(FlowProbes(spec), cfg.first_ttl, cfg.max_ttl, cfg.confidence,
                           cfg.inflight, cfg.timing, max_flows=MDA_FLOWS)
        result = MdaResult(cfg.host, addr, spec.src, cfg.method, version, transport.mechanism,
                           cfg.confidence, False, engine.hops, engine.counters)
        if on_start:
            on_start(result)
        recorder = Recorder(PcapWriter.open(cfg.record)) if cfg.record else None

        def settled(ev: HopSettled) -> None:
            if on_hop:
                on_hop(ev.hop)

        try:
            ending = run(engine, transport, recorder, stop, settled)
        finally:
            if recorder:
                recorder.writer.close()
    finally:
        transport.close()
    result.reached = engine.reached
    result.interrupted = ending != "done"
    return result
