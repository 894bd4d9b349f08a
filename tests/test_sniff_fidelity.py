"""The share of sniff's first lines that are tcpdump's may rise, never fall.

tcpdump 4.99 run here on the same files is the oracle (`rawtools.testing.fidelity`
compares packet by packet); the floors are the shares measured when each was
last raised, so a printer that stops matching tcpdump, or a change to the
fast path that alters a line, fails here with the classes that lost lines.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import CORPUS, ROOT

from rawtools.testing.fidelity import Tally, captures, compare, table

# Identical first lines / packets, measured: the corpus (3455 packets) and a
# 20,000-packet generated mixed capture (scripts/bench/genpcap.py, seed 1; 2 % of
# it the other protocols of issue 12, frames taken from the corpus).
CORPUS_FLOOR = 0.9829  # 3396 of 3455 (98.3 %): IPv6 headers, Frame Relay, OSI, RSVP, Telnet...
MIXED_FLOOR = 0.9995  # 19,999 of 20,000

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None,
                                reason="needs tcpdump, the oracle (Debian package: tcpdump)")


def _tally(files: list[str]) -> Tally:
    tally = Tally()
    with ThreadPoolExecutor(2) as pool:
        for t in pool.map(compare, files):
            tally.add(t)
    return tally


def test_corpus_share_of_tcpdump_lines_does_not_fall():
    files = captures([str(CORPUS)])
    assert len(files) == 406, "tcpdump's 406 test captures belong to the checkout"
    tally = _tally(files)
    assert sum(tally.total.values()) > 3000
    assert tally.share >= CORPUS_FLOOR, table(tally, 15)


def test_mixed_capture_share_of_tcpdump_lines_does_not_fall(tmp_path):
    path = tmp_path / "mixed.pcap"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "bench" / "genpcap.py"), str(path),
                    "--count", "20000"], check=True)
    tally = _tally([str(path)])
    assert sum(tally.total.values()) == 20000
    assert tally.share >= MIXED_FLOOR, table(tally, 15)
