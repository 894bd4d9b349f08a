"""Loss reported as it is, on real kernels: stars where the wire lost probes, and
mtr's Loss% on the same lossy, delayed path.

Oracles: tcpdump's capture on the host's interface, read by dpkt and matched by
hand to the probes it shows (tests/test_trace_fixture_oracle.py), for which
probe got an answer; mtr run on the same path at the same time, and the loss
the lab was set to drop, for the report's figures; the lab's own addresses for
who is at each hop.

The path: two routers, the host's link through the lab's delay line, 25 ms
each way and a share of the frames dropped in each direction, as in issue 13.
"""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import rawtools_argv
from test_trace_fixture_oracle import assert_shows_the_wire, shown_slots, wire_runs

from rawtools.testing.delayline import Impairment
from rawtools.testing.lab import Lab

pytestmark = pytest.mark.lab


def lossy_path(make_lab: Callable[..., Lab], loss_pct: float, seed: int) -> Lab:
    """Two routers, 25 ms each way and `loss_pct` % of the frames lost each way on the
    host's link; no ICMP rate limits anywhere, so that every loss is the wire's;
    the neighbours resolved before anything is measured."""
    lab = make_lab(2, impair={0: Impairment(delay_ms=25, loss_pct=loss_pct, seed=seed)})
    for node in lab.nodes[1:]:
        lab.run(node, ["sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0",
                       "net.ipv6.icmp.ratelimit=0"], check=True)
    for _ in range(10):
        if lab.run("host", ["ping", "-n", "-c", "1", "-W", "2", lab.dst4]).returncode == 0:
            return lab
    pytest.fail(f"{lab.dst4} never answered through the delay line")


@contextlib.contextmanager
def captured(lab: Lab, path: Path) -> Iterator[Path]:
    """tcpdump on the host's interface, writing every packet to `path` as it comes."""
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump not installed")
    with lab.tcpdump(path):
        yield path


def trace(lab: Lab, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    r = lab.run("host", rawtools_argv("trace", *args), timeout=timeout)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return r


def runs_of(lab: Lab, n: int) -> tuple[list[str], list[float]]:
    """`n` traces back to back: what each printed, and when each began."""
    texts, starts = [], []
    for _ in range(n):
        starts.append(time.time())
        texts.append(trace(lab, "-n", lab.dst4).stdout)
    return texts, starts


def test_stars_appear_exactly_where_the_wire_lost_probes(make_lab, tmp_path):
    lab = lossy_path(make_lab, 20, seed=13)
    with captured(lab, tmp_path / "wire.pcap") as pcap:
        texts, starts = runs_of(lab, 4)
    runs = wire_runs(pcap, ours=lab.host4, starts=starts)
    assert len(runs) == 4
    stars = 0
    for text, wire in zip(texts, runs, strict=True):
        assert_shows_the_wire(text, wire, 3, within_ms=2.0)
        slots = shown_slots(text)
        assert sorted(slots) == [1, 2, 3]
        assert all(50 <= float(r) < 100 for hop in slots.values() for s in hop
                   for _, r, _ in s if r)
        stars += sum(s[0][0] is None for hop in slots.values() for s in hop)
    assert stars > 0  # 36 slots at 36 % loss a round trip: none lost is 1e-7


def test_the_report_counts_every_try_on_the_wire_and_only_the_destinations_own(make_lab,
                                                                              tmp_path):
    lab = lossy_path(make_lab, 10, seed=21)
    with captured(lab, tmp_path / "wire.pcap") as pcap:
        r = trace(lab, "--json", "-c", "8", "-q", "3", lab.dst4, timeout=120)
    (wire,) = wire_runs(pcap, ours=lab.host4)
    stats = json.loads(r.stdout.splitlines()[-1])["stats"]
    # No row past the destination (hop 3), whose line holds only the probes
    # sent with TTL 3: not the scout (TTL 30), nor those the first window sent
    # with TTL 4 and 5.
    assert [s["ttl"] for s in stats] == [1, 2, 3]
    assert [s["addr"] for s in stats] == [lab.router4(1), lab.router4(2), lab.dst4]
    assert set(wire) - {1, 2, 3} <= {4, 5, 30}
    for s in stats:
        probes = wire[s["ttl"]]
        lost = sum(a is None for a, _ in probes)
        assert (s["sent"], s["loss_pct"]) == (len(probes),
                                              pytest.approx(100 * lost / len(probes)))


def test_back_to_back_traces_identify_every_hop_and_show_what_rate_limits_ate(make_lab,
                                                                             tmp_path):
    lab = make_lab(8)
    want = [lab.router4(i) for i in range(1, 9)] + [lab.dst4]
    with captured(lab, tmp_path / "wire.pcap") as pcap:
        texts, starts = runs_of(lab, 5)
    runs = wire_runs(pcap, ours=lab.host4, starts=starts)
    assert len(runs) == 5
    for text, wire in zip(texts, runs, strict=True):
        slots = shown_slots(text)
        # Every hop identified in every run, by its own probes or a retry...
        assert [next(a for s in slots[t] for a, _, _ in s if a) for t in sorted(slots)] == want
        # ...and each probe the routers' rate limits ate is a star.
        assert_shows_the_wire(text, wire, 3, within_ms=2.0)
    # 15 probes to each router within seconds, which sends 6 and then one a second.
    assert sum(t.count("*") for t in texts[2:]) > 0


LOSS = 10  # % of the frames, each way
ROUND_TRIP = 1 - (1 - LOSS / 100) ** 2  # 0.19: a probe or its answer lost


@pytest.mark.skipif(shutil.which("mtr") is None, reason="mtr (Debian package mtr-tiny)")
def test_report_loss_agrees_with_mtr_and_with_the_set_loss(make_lab):
    lab = lossy_path(make_lab, LOSS, seed=5)
    n = 300
    # mtr beside ours, at the same time, on the same path: 300 probes a hop each.
    mtr = subprocess.Popen(lab.exec_argv("host", ["mtr", "-n", "-u", "-j", "-c", str(n),
                                                  "-i", "0.1", lab.dst4]),
                           stdout=subprocess.PIPE, text=True)
    ours = trace(lab, "--json", "-c", "30", "-q", "10", lab.dst4, timeout=240)
    theirs, _ = mtr.communicate(timeout=240)
    stats = json.loads(ours.stdout.splitlines()[-1])["stats"]
    hubs = json.loads(theirs)["report"]["hubs"]
    want = [lab.router4(1), lab.router4(2), lab.dst4]
    assert [s["addr"] for s in stats] == want == [h["host"] for h in hubs]
    for s, h in zip(stats, hubs, strict=True):
        assert s["sent"] == n  # each probe sent once, as mtr; the destination's row only its own
        sigma = math.sqrt(ROUND_TRIP * (1 - ROUND_TRIP) / s["sent"])
        assert abs(s["loss_pct"] / 100 - ROUND_TRIP) < 4 * sigma, (s, h)
        both = math.sqrt(ROUND_TRIP * (1 - ROUND_TRIP) * (1 / s["sent"] + 1 / h["Snt"]))
        assert abs(s["loss_pct"] - h["Loss%"]) / 100 < 4 * both, (s, h)
        assert 49 <= s["best_ms"] <= s["avg_ms"] < 70


def test_the_text_report_is_mtrs_table_with_no_row_past_the_destination(make_lab):
    lab = lossy_path(make_lab, LOSS, seed=8)
    r = trace(lab, "-n", "--report", "-c", "10", lab.dst4, timeout=60)
    rows = r.stdout.splitlines()
    assert rows[0].split()[2:] == ["Loss%", "Snt", "Last", "Avg", "Best", "Wrst", "StDev"]
    assert [x.split()[1] for x in rows[1:]] == [lab.router4(1), lab.router4(2), lab.dst4]
