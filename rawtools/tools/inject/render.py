"""Inject as text: a progress line on a terminal, and tcpreplay's closing figures.

The summary keeps tcpreplay's words and layout ("Actual:", "Rated:", the
per-device statistics) so that eyes and scripts used to it read ours
unchanged; the progress line is ours (tcpreplay has none) and goes to
stderr only when that is a terminal, overwritten in place, then erased.
"""

from __future__ import annotations

import sys
from typing import TextIO

from rawtools.tools.inject.events import InjectEvent, Progress
from rawtools.tools.inject.report import InjectResult


class ProgressLine:
    """Rewrites one line of a terminal with where a long run stands."""

    def __init__(self, err: TextIO | None = None) -> None:
        self.err = err or sys.stderr
        self.shown = False
        self.enabled = self.err.isatty()

    def event(self, ev: InjectEvent) -> None:
        match ev:
            case Progress() if self.enabled:
                seconds = ev.elapsed_ns / 1e9
                rate = ev.packets / seconds if seconds else 0.0
                self.err.write(f"\r{ev.packets} packets ({ev.bytes} bytes) in {seconds:.0f} s, "
                               f"{rate:.0f} pps, loop {ev.loop}\033[K")
                self.err.flush()
                self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.err.write("\r\033[K")
            self.err.flush()


def summary(r: InjectResult, filter_text: str = "") -> str:
    """tcpreplay's closing lines, with what was left out said first."""
    lines = []
    if r.dmac is not None:
        lines.append(f"Framing: {r.capture_linktype} frames sent as {r.linktype}, "
                     f"{r.smac} > {r.dmac}")
    if r.unsendable:
        lines.append(f"Skipped: {r.unsendable} of {r.frames} frames have no "
                     f"{r.linktype} form ({r.capture_linktype} capture)")
    if filter_text:
        lines.append(f"Filter: {r.matched} of {r.frames - r.unsendable} frames match "
                     f"'{filter_text}'")
    bps = r.bytes / r.seconds if r.seconds else 0.0
    failed = f"{r.failed} ({r.failure})" if r.failed and r.failure else str(r.failed)
    lines += [
        f"Actual: {r.packets} packets ({r.bytes} bytes) sent in {r.seconds:.2f} seconds",
        f"Rated: {bps:.1f} Bps, {r.mbps:.2f} Mbps, {r.pps:.2f} pps",
        f"Statistics for network device: {r.interface}",
        f"\tSuccessful packets:        {r.packets}",
        f"\tFailed packets:            {failed}",
        f"\tRetried packets (ENOBUFS): {r.retried}",
    ]
    return "\n".join(lines)
