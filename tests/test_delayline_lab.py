"""The lab's delay line against iputils ping: the latency, jitter, reordering and loss
asked for, links without one untouched, and nothing left behind.

Timing on a shared two-core machine: the delay line never sends a frame early
(it holds each one the full delay after the kernel saw it arrive), so every
round trip is at least twice the delay, a hard bound. Late is another
matter: a relay, a ping or a router descheduled for a few milliseconds makes
that one sample late, so the 1 ms of precision is asserted on the minimum,
the median and most samples, not on every one.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import math
import os
import re
import statistics
import subprocess
import sys

import pytest

from rawtools.testing import lab as labmod
from rawtools.testing.delayline import Impairment
from rawtools.testing.lab import Lab, cleanup_stale

REPLY = re.compile(r"icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms")
SUMMARY = re.compile(r"(\d+) packets transmitted, (\d+) received")
RTT_MIN = re.compile(r"rtt min/avg/max/mdev = ([\d.]+)/")
COUNTS = re.compile(r"(\w+)>(\w+): relayed (\d+) dropped (\d+) failed (\d+) overflowed (\d+)")


def ping(lab: Lab, dst: str, *args: str) -> subprocess.CompletedProcess[str]:
    r = lab.run("host", ["ping", "-n", *args, dst])
    assert r.returncode in (0, 1), r.stderr
    return r


def replies(text: str) -> list[tuple[int, float]]:
    """(icmp_seq, RTT in ms) of each reply, in the order they arrived."""
    return [(int(s), float(t)) for s, t in REPLY.findall(text)]


def warm(lab: Lab, dst: str) -> None:
    """Resolve the neighbours first, so that no measured round trip waits for ARP or ND."""
    for _ in range(5):
        if lab.run("host", ["ping", "-n", "-c", "1", "-W", "2", dst]).returncode == 0:
            return
    pytest.fail(f"{dst} never answered through the delay line")


def netns_names() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def gone(pid: int) -> bool:
    """True once `pid` has exited (a zombie that is not yet reaped counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.lab
@pytest.mark.parametrize("family", [4, 6])
def test_round_trip_is_twice_the_delay_within_a_millisecond(make_lab, family):
    delay = 25.0
    lab = make_lab(1, impair={1: Impairment(delay_ms=delay)})
    dst = lab.dst4 if family == 4 else lab.dst6
    warm(lab, dst)
    r = ping(lab, dst, "-c", "40", "-i", "0.01")
    over = [t - 2 * delay for _, t in replies(r.stdout)]
    assert len(over) == 40, r.stdout
    # Never early: the summary's minimum has microseconds (the replies print 0.1 ms).
    assert float(RTT_MIN.search(r.stdout).group(1)) >= 2 * delay
    # The base RTT of the lab (two veths, one router, the relay's wake-up) is ~0.1 ms,
    # so the best replies show the line adds nothing but its delay. The relay is a
    # process: with both cores busy (CI runs benchmarks beside it) its wake-up can
    # take a few milliseconds, so the bulk gets 2 ms, not 1.
    assert min(over) <= 1.0, over
    assert statistics.median(over) <= 2.0, over


@pytest.mark.lab
def test_links_without_impairment_stay_plain_veths(make_lab):
    lab = make_lab(2, impair={1: Impairment(delay_ms=5)})
    mine = {n for n in netns_names() if n.startswith(lab.prefix)}
    assert mine == {lab.ns(n) for n in lab.nodes} | {lab.dl_ns(1)}

    def peer_ns(node: str, link: int, side: str) -> str:
        """The namespace at the other end of a node's veth, once its names and addresses
        are checked to be those of a lab without delay lines."""
        name = lab.ifname(link, side)
        out = lab.run(node, ["ip", "-j", "addr", "show", name], check=True)
        addrs = {a["local"] for a in json.loads(out.stdout)[0]["addr_info"]
                 if a["scope"] == "global"}
        end = "1" if side == "left" else "2"
        assert addrs == {f"198.18.{link}.{end}",
                         str(ipaddress.ip_address(f"2001:db8:0:{link:x}::{end}"))}
        text = lab.run(node, ["ip", "-o", "link", "show", name], check=True).stdout
        return re.search(r"link-netns (\S+)", text).group(1)

    assert peer_ns("host", 0, "left") == lab.ns("r1")
    assert peer_ns("r2", 2, "left") == lab.ns("dst")
    assert peer_ns("r1", 1, "left") == peer_ns("r2", 1, "right") == lab.dl_ns(1)
    # The delay line is no hop: only the two routers lower the TTL.
    far = replies(ping(lab, lab.dst4, "-c", "2", "-i", "0.05").stdout)
    assert far and all(t >= 10.0 for _, t in far)
    near = ping(lab, lab.router4(1), "-c", "3", "-i", "0.01")
    assert "ttl=64" in near.stdout and all(t < 5.0 for _, t in replies(near.stdout))
    assert "ttl=62" in ping(lab, lab.dst4, "-c", "1").stdout


@pytest.mark.lab
def test_jitter_spreads_round_trips_and_reorders_replies(make_lab):
    delay, jitter, n = 10.0, 10.0, 200
    lab = make_lab(0, impair={0: Impairment(delay_ms=delay, jitter_ms=jitter, seed=5)})
    warm(lab, lab.dst4)
    got = replies(ping(lab, lab.dst4, "-c", str(n), "-i", "0.002").stdout)
    assert len(got) == n
    seqs, rtts = [s for s, _ in got], [t for _, t in got]
    assert min(rtts) >= 2 * delay
    assert sum(t <= 2 * (delay + jitter) + 1.0 for t in rtts) >= 0.9 * n
    # Two independent uniform draws of 0..jitter: a triangle around 2*delay + jitter, whose
    # median has a standard error of jitter / (2 sqrt(n)); 4 of them, plus the base RTT.
    se = jitter / (2 * math.sqrt(n))
    assert -4 * se <= statistics.median(rtts) - (2 * delay + jitter) <= 4 * se + 1.0
    assert statistics.stdev(rtts) > jitter / 4  # sd of the triangle: jitter / sqrt(6)
    # iputils prints replies as they arrive: a later request overtook an earlier one
    assert any(b < a for a, b in itertools.pairwise(seqs)), seqs


def pin_neighbours(lab: Lab) -> None:
    """Permanent ARP entries on host and dst: only ping's own packets cross the lossy link."""
    ends = {"host": (lab.host4, lab.host_if), "dst": (lab.dst4, lab.dst_if)}
    for node, peer in (("host", "dst"), ("dst", "host")):
        addr, peer_if = ends[peer]
        info = json.loads(lab.run(peer, ["ip", "-j", "link", "show", peer_if], check=True).stdout)
        lab.run(node, ["ip", "neigh", "replace", addr, "lladdr", info[0]["address"], "dev",
                       ends[node][1], "nud", "permanent"], check=True)


def within(k: int, n: int, p: float, sds: float = 4.0) -> bool:
    """k successes of n within `sds` binomial standard deviations of n*p."""
    return abs(k - n * p) <= sds * math.sqrt(n * p * (1 - p))


@pytest.mark.lab
def test_loss_is_the_share_asked_for_in_each_direction(make_lab):
    p, n = 0.20, 400
    lab = make_lab(0, impair={0: Impairment(delay_ms=1, loss_pct=100 * p, seed=11)})
    pin_neighbours(lab)
    r = ping(lab, lab.dst4, "-c", str(n), "-i", "0.005", "-W", "1")
    sent, received = map(int, SUMMARY.search(r.stdout).groups())
    assert sent == n
    # A round trip is lost when either direction drops: 36 %, where one direction would be 20 %.
    assert within(n - received, n, 1 - (1 - p) ** 2), (n - received, r.stdout[-300:])
    lab.down()
    counts = COUNTS.findall(lab.relay_reports[0])
    assert [(a, b) for a, b, *_ in counts] == [("left", "right"), ("right", "left")]
    for _, _, relayed, dropped, failed, overflowed in counts:
        total = int(relayed) + int(dropped)
        assert within(int(dropped), total, p), counts
        assert (int(failed), int(overflowed)) == (0, 0)


@pytest.mark.lab
def test_mtu_of_an_impaired_link_carries_jumbo_frames(make_lab):
    lab = make_lab(0, mtu={0: 9000}, impair={0: Impairment(delay_ms=1)})
    warm(lab, lab.dst4)
    fits = ping(lab, lab.dst4, "-c", "2", "-i", "0.01", "-M", "do", "-s", str(9000 - 28))
    assert "2 received" in fits.stdout
    too_big = lab.run("host", ["ping", "-n", "-c", "1", "-M", "do", "-s", str(9001 - 28),
                               lab.dst4])
    assert too_big.returncode != 0 and "mtu=9000" in too_big.stdout + too_big.stderr


@pytest.mark.lab
def test_down_ends_every_relay_and_namespace(make_lab):
    lab = make_lab(1, impair={0: Impairment(delay_ms=1), 1: Impairment()})
    pids = lab.relay_pids
    assert sorted(pids) == [0, 1]
    for pid in pids.values():  # the relay itself, not a wrapper that would outlive a signal
        with open(f"/proc/{pid}/cmdline") as f:
            assert "rawtools.testing.delayline" in f.read()
    lab.down()
    assert not {n for n in netns_names() if n.startswith(lab.prefix)}
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert lab.relay_pids == {}
    assert all(COUNTS.search(lab.relay_reports[k]) for k in (0, 1)), lab.relay_reports


@pytest.mark.lab
def test_cleanup_stale_ends_the_relay_of_a_lost_lab(make_lab):
    lab = make_lab(0, impair={0: Impairment(delay_ms=1)})
    pid = lab.relay_pids[0]
    assert lab.dl_ns(0) in cleanup_stale(lab.prefix)
    assert gone(pid)
    assert not {n for n in netns_names() if n.startswith(lab.prefix)}


@pytest.mark.lab
def test_a_failing_up_still_ends_its_relays(make_lab, monkeypatch):
    seen: list[Lab] = []
    pids: dict[int, int] = {}

    def fail(self: Lab, timeout: float = 5.0) -> None:
        seen.append(self)
        pids.update(self.relay_pids)
        raise RuntimeError("settle failed")

    monkeypatch.setattr(Lab, "_settle", fail)
    with pytest.raises(RuntimeError, match="settle failed"):
        make_lab(0, impair={0: Impairment()})
    assert len(pids) == 1 and all(gone(pid) for pid in pids.values())
    assert not {n for n in netns_names() if n.startswith(seen[0].prefix)}


BAD = [{"delay_ms": -1}, {"delay_ms": float("nan")}, {"jitter_ms": float("inf")},
       {"loss_pct": 100.5}, {"loss_pct": -0.1}, {"delay_ms": 60_001}, {"delay_ms": True},
       {"delay_ms": "5"}, {"seed": 1.5}, {"seed": False}]


@pytest.mark.parametrize("kw", BAD, ids=repr)
def test_bad_impairment_is_rejected(kw):
    with pytest.raises(ValueError):
        Impairment(**kw)


def test_lab_rejects_an_impairment_it_cannot_place():
    with pytest.raises(ValueError, match="impair"):
        Lab(1, impair={2: Impairment()})
    with pytest.raises(ValueError, match="impair"):
        Lab(1, impair={0: {"delay_ms": 5}})  # type: ignore[dict-item]


@pytest.mark.parametrize("args", [["--loss-pct", "101"], ["--delay-ms", "nan"],
                                  ["--jitter-ms", "-1"], ["--delay-ms", "soon"]])
def test_relay_cli_rejects_bad_values_in_one_line(args):
    r = subprocess.run([sys.executable, "-m", "rawtools.testing.delayline", "--a", "x",
                        "--b", "y", *args], capture_output=True, text=True)
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("delayline: "), r.stderr


@pytest.mark.parametrize("args", [["--loss-pct", "1:150"], ["--delay-ms", "0:nan"],
                                  ["--jitter-ms", "x:5"], ["--delay-ms", "9:5"]])
def test_lab_cli_rejects_bad_impairments_before_building(args, capsys):
    with pytest.raises(SystemExit) as e:
        labmod.main(["up", "--routers", "1", *args])
    assert e.value.code == 2
