"""Inject results as data: the API's `InjectResult` and the JSON lines.

`build_result` turns a finished run into the `InjectResult` that
`rawtools.inject()` returns; `--json`'s summary is that same result's
`to_dict()` and the text summary is printed from it, so the three cannot
disagree.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rawtools.io.inject import Backend
from rawtools.jsonout import JsonResult, record
from rawtools.tools.inject.events import InjectEvent, Progress
from rawtools.tools.inject.session import InjectRun
from rawtools.values import frozen
from rawtools.wire.ethernet import format_mac
from rawtools.wire.link import NAMES


@frozen
class InjectResult(JsonResult):
    """A finished (or interrupted) run, tcpreplay's figures and a few more.

    `frames` is what the capture holds; `unsendable` those that could not be
    given the interface's link header; `matched` those the filter picked
    among the rest (all of them without a filter). `packets` and `bytes`
    count frames the interface took, loops included; `failed` those it
    refused (`failure` says why the first one was), `retried` the sends
    repeated because its queue was full. `seconds` runs from the first frame
    to the last, and `pps`/`mbps` are over it. `passes` counts passes over
    the capture begun (`--loop`). `dmac`/`smac` are the addresses of the
    Ethernet header given to a header-less capture (None: sent as captured).
    """

    file: str
    interface: str
    backend: Backend
    linktype: str
    capture_linktype: str
    frames: int
    unsendable: int
    matched: int
    packets: int
    bytes: int
    failed: int
    retried: int
    seconds: float
    pps: float
    mbps: float
    passes: int
    interrupted: bool
    failure: str | None
    dmac: str | None
    smac: str | None

    def to_dict(self) -> dict[str, Any]:
        """The final JSON object: the fields as plain data."""
        return record("inject", "summary", **asdict(self))


def _name(linktype: int) -> str:
    return NAMES.get(linktype, str(linktype))


def build_result(run: InjectRun) -> InjectResult:
    e, t = run.engine, run.transport
    packets = e.packets - t.failed
    nbytes = e.bytes - t.failed_bytes
    seconds = e.elapsed_ns / 1e9
    return InjectResult(
        file=run.cfg.file, interface=run.cfg.interface, backend=t.backend,
        linktype=_name(t.linktype), capture_linktype=_name(run.capture_linktype),
        frames=run.frames, unsendable=run.unsendable, matched=e.matched, packets=packets,
        bytes=nbytes, failed=t.failed, retried=t.retried, seconds=seconds,
        pps=packets / seconds if seconds else 0.0,
        mbps=nbytes * 8 / seconds / 1e6 if seconds else 0.0, passes=e.passes,
        interrupted=run.interrupted, failure=t.failure,
        dmac=format_mac(run.framed[0]) if run.framed else None,
        smac=format_mac(run.framed[1]) if run.framed else None)


def event_record(ev: InjectEvent) -> dict[str, Any]:
    """The JSON line of an event."""
    match ev:
        case Progress():
            return {"type": "progress", "ts": ev.ts_ns / 1e9, "packets": ev.packets,
                    "bytes": ev.bytes, "seconds": ev.elapsed_ns / 1e9, "loop": ev.loop}

