"""`rawtools.sniff()` over a file: the session object, its counts and its written copy.

tcpdump reading the same files is the oracle for every count.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import CORPUS

import rawtools

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump")

FILE = CORPUS / "of10_s4810.pcap"


def tcpdump_count(path, *flt: str) -> int:
    res = subprocess.run(["tcpdump", "--count", "-r", str(path), *flt], capture_output=True,
                         text=True, check=True, timeout=60)
    assert "truncated" not in res.stderr, res.stderr
    return int(res.stdout.split()[0])


def test_a_for_loop_still_gets_every_packet_and_a_file_has_no_stats():
    cap = rawtools.sniff(file=str(FILE))
    got = [p for p in cap]
    assert len(got) == cap.captured == tcpdump_count(FILE)
    assert cap.stats is None
    assert got[0].summary  # decoded on demand, as before


def test_write_copies_what_the_filter_kept(tmp_path):
    out = tmp_path / "tcp.pcap"
    with rawtools.sniff(file=str(FILE), filter="tcp", write=str(out)) as cap:
        n = sum(1 for _ in cap)
    assert n == tcpdump_count(FILE, "tcp") == tcpdump_count(out)


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_a_loop_left_early_leaves_exactly_the_packets_it_saw(tmp_path, fmt):
    out = tmp_path / f"early.{fmt}"
    cap = rawtools.sniff(file=str(FILE), write=str(out), pcapng=fmt == "pcapng")
    for i, _ in enumerate(cap, 1):
        if i == 7:  # the reader hands over one batch of all 137: stop in its middle
            break
    cap.close()
    assert tcpdump_count(out) == cap.captured == 7
    with open(out, "rb") as f:
        assert (f.read(4) == b"\x0a\x0d\x0d\x0a") == (fmt == "pcapng")


def test_count_stops_the_session_and_closes_the_file(tmp_path):
    out = tmp_path / "count.pcap"
    cap = rawtools.sniff(file=str(FILE), count=5, write=str(out))
    assert len(list(cap)) == 5
    assert tcpdump_count(out) == 5
    assert list(cap) == []  # finished: iterating again gives nothing
