"""Continuous tracing (`--watch`, `-c 0`, `trace(cycles=0)`) and per-hop statistics in the API.

Oracles: the lab's own addresses for who is at each hop; the number of
rounds the output itself shows (its `round N` lines, the redraws a terminal
received) for what `Snt` must be; the probes of `result.rounds`, counted in
the test, for the statistics the result computes from them; mtr, run on the
same lab, for the table's rows.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import rawtools_argv

from rawtools.errors import UsageError

pytestmark = pytest.mark.lab

ROW = re.compile(r"^\s*(\d+)\.\|-- (\S+)\s+([\d.]+)%\s+(\d+)")


def interrupted(lab, argv: list[str], after: float) -> subprocess.CompletedProcess[str]:
    """`argv` in the host, stopped with one SIGINT after `after` seconds (a terminal's Ctrl-C)."""
    proc = subprocess.Popen(lab.exec_argv("host", argv), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(after)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def tables(text: str) -> list[list[tuple[int, str, float, int]]]:
    """Every table in the output, each as its rows (ttl, address, loss %, sent)."""
    out: list[list[tuple[int, str, float, int]]] = []
    for line in text.splitlines():
        if line.startswith("HOST:"):
            out.append([])
        m = ROW.match(line)
        if m and out:
            out[-1].append((int(m.group(1)), m.group(2), float(m.group(3)), int(m.group(4))))
    return out


@pytest.mark.parametrize("flag", [["--watch"], ["-c", "0"]])
def test_a_watch_prints_a_table_a_round_until_ctrl_c_then_exits_0(make_lab, flag):
    lab = make_lab(2)
    r = interrupted(lab, rawtools_argv("trace", "-n", *flag, lab.dst4), after=3.5)
    assert r.returncode == 0, r.stderr
    rounds = [int(n) for n in re.findall(r"^round (\d+)$", r.stdout, re.M)]
    shown = tables(r.stdout)
    assert rounds == list(range(1, len(rounds) + 1)) and len(rounds) >= 2
    assert len(shown) == len(rounds)
    want = [lab.router4(1), lab.router4(2), lab.dst4]
    for n, table in enumerate(shown, 1):
        assert [row[1] for row in table] == want
        assert {row[3] for row in table} == {n}  # one probe a hop a round, as mtr
        assert {row[2] for row in table} == {0.0}  # nothing lost on a quiet lab


def test_a_watch_redraws_in_place_on_a_terminal(make_lab):
    if shutil.which("script") is None:
        pytest.skip("script (util-linux) is needed for a pseudo-terminal")
    lab = make_lab(1)
    cmd = " ".join(rawtools_argv("trace", "-n", "--watch", lab.dst4))
    r = interrupted(lab, ["script", "-qefc", cmd, "/dev/null"], after=3.5)
    redraws = r.stdout.count("\x1b[H\x1b[J")
    footers = re.findall(r"round (\d+); Ctrl-C to stop", r.stdout)
    assert redraws >= 2 and redraws == len(footers)
    assert [int(n) for n in footers] == list(range(1, redraws + 1))
    assert "\nround 1\n" not in r.stdout.replace("\r", "")  # no log-style blocks on a terminal


_API_STATS = """
import json, sys, rawtools
res = rawtools.trace(sys.argv[1], cycles=3, nqueries=1)
print(json.dumps({
    "rounds": len(res.rounds),
    "stats": [[s.ttl, s.addr, s.sent, s.loss, s.best, s.worst, s.avg, s.stdev]
              for s in res.stats],
    "figures": [s.figures() for s in res.stats], "dict": res.to_dict()["stats"],
    "probes": [[h.ttl, p.tries, p.lost, p.rtt_ns] for hops in res.rounds for h in hops
               for p in h.probes]}))
"""


def test_the_api_result_carries_mtrs_figures_per_hop(make_lab):
    import json

    lab = make_lab(2)
    # Run in the lab's host, as every probe must be: never from the test's own namespace.
    r = lab.run("host", [sys.executable, "-c", _API_STATS, lab.dst4], timeout=60)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["rounds"] == 3
    assert [row[1] for row in got["stats"]] == [lab.router4(1), lab.router4(2), lab.dst4]
    for ttl, _addr, sent, loss, best, worst, avg, stdev in got["stats"]:
        probes = [p for p in got["probes"] if p[0] == ttl]
        rtts = sorted(p[3] / 1e6 for p in probes if p[3] is not None)
        assert sent == sum(p[1] for p in probes)
        assert loss == pytest.approx(100 * sum(p[2] for p in probes) / sent)
        assert (best, worst) == (rtts[0], rtts[-1])
        mean = sum(rtts) / len(rtts)
        assert avg == pytest.approx(mean)
        assert stdev == pytest.approx((sum((x - mean) ** 2 for x in rtts) / len(rtts)) ** .5)
    assert got["dict"] == got["figures"]


def test_the_rows_are_mtrs(make_lab):
    if shutil.which("mtr") is None:
        pytest.skip("mtr (mtr-tiny) is needed as the oracle")
    lab = make_lab(3)
    mtr = lab.run("host", ["mtr", "-n", "-r", "-c", "2", "-u", lab.dst4], timeout=60)
    theirs = [line.split()[1] for line in mtr.stdout.splitlines() if ".|--" in line]
    time.sleep(2)  # the routers' ICMP budget refills
    r = interrupted(lab, rawtools_argv("trace", "-n", "--watch", lab.dst4), after=2.5)
    ours = [row[1] for row in tables(r.stdout)[-1]]
    assert ours == theirs


_API_WATCH = """
import json, sys, rawtools
seen = []
res = rawtools.trace(sys.argv[1], cycles=0, on_hop=lambda rnd, hop: seen.append((rnd, hop.ttl)))
print(json.dumps({"interrupted": res.interrupted, "rounds": len(res.rounds), "seen": seen,
                  "sent": [s.sent for s in res.stats],
                  "hops": [[h.ttl for h in hops] for hops in res.rounds]}))
"""


def test_the_api_watch_returns_every_round_at_ctrl_c_and_streams_hops(make_lab):
    import json

    lab = make_lab(1)
    r = interrupted(lab, [sys.executable, "-c", _API_WATCH, lab.dst4], after=3.5)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["interrupted"] and got["rounds"] >= 2
    streamed = sorted({(rnd, ttl) for rnd, ttl in got["seen"]})
    kept = sorted((rnd, ttl) for rnd, hops in enumerate(got["hops"]) for ttl in hops)
    # Every hop streamed belongs to a kept round; the round Ctrl-C cut may have more kept.
    assert set(streamed) <= set(kept) and len(streamed) >= 2 * len(got["hops"][0])


def test_the_api_watch_needs_the_main_thread():
    import threading

    import rawtools

    caught: list[BaseException] = []

    def worker() -> None:
        try:
            rawtools.trace("198.18.0.1", cycles=0)
        except BaseException as e:  # noqa: BLE001 - the test reports what was raised
            caught.append(e)

    t = threading.Thread(target=worker)
    t.start()
    t.join(10)
    assert len(caught) == 1 and isinstance(caught[0], UsageError)
