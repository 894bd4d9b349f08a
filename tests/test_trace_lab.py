"""rawtools trace against real kernels in a namespace lab, beside Debian's traceroute."""

from __future__ import annotations

import json
import re
import shutil
import sys
import time

import pytest
from conftest import rawtools_argv, without_privileges

pytestmark = pytest.mark.lab

FLAG = {"udp": [], "icmp": ["-I"], "tcp": ["-T"]}
REST = 7.0  # until every router's ICMP budget (6 errors, one more a second) is full again
LINE = re.compile(r"^\s*(\d+)\s+(.*)$")
ADDR = re.compile(r"^(?:\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f:]+)$")
RTT = re.compile(r"\d+\.\d+ ms")


def hops(text: str) -> list[tuple[int, list[str], int, int]]:
    """(ttl, addresses in order, RTTs, stars) of each traceroute-style line."""
    out = []
    for line in text.splitlines()[1:]:
        m = LINE.match(line)
        if not m:
            continue
        words = m.group(2).split()
        addrs: list[str] = []
        for w in words:
            if ADDR.match(w) and w not in addrs:
                addrs.append(w)
        out.append((int(m.group(1)), addrs, len(RTT.findall(line)), words.count("*")))
    return out


def trace(lab, *args, unprivileged=False, timeout=60):
    argv = rawtools_argv("trace", *args)
    if unprivileged:
        argv = without_privileges(argv)
    return lab.run("host", argv, timeout=timeout)


def expected(lab, family: int) -> list[list[str]]:
    router = lab.router4 if family == 4 else lab.router6
    dst = lab.dst4 if family == 4 else lab.dst6
    return [[router(i)] for i in range(1, lab.n + 1)] + [[dst]]


@pytest.mark.parametrize("family", [4, 6])
@pytest.mark.parametrize("method", ["udp", "icmp", "tcp"])
def test_eight_routers_then_the_destination_as_traceroute_says(make_lab, method, family):
    if shutil.which("traceroute") is None:
        pytest.skip("traceroute (Debian package traceroute) not installed")
    lab = make_lab(8)
    dst = lab.dst4 if family == 4 else lab.dst6
    # traceroute first, on a rested lab: it does not retry what rate limits eat.
    # Then ours once the budgets it spent are full again (ours does not paint
    # over what they would eat either).
    theirs = lab.run("host", ["traceroute", "-n", f"-{family}", *FLAG[method], dst])
    time.sleep(REST)
    ours = trace(lab, "-n", *FLAG[method], dst)
    assert ours.returncode == 0, ours.stderr
    assert ours.stderr == ""
    got = hops(ours.stdout)
    assert [a for _, a, _, _ in got] == expected(lab, family)
    assert [t for t, _, _, _ in got] == list(range(1, 10))
    assert all(n == 3 and s == 0 for _, _, n, s in got)
    assert [a for _, a, _, _ in hops(theirs.stdout)] == [a for _, a, _, _ in got]
    assert ours.stdout.splitlines()[0] == theirs.stdout.splitlines()[0]


@pytest.mark.parametrize("family", [4, 6])
def test_a_silenced_router_gives_stars_at_its_hop_only(make_lab, family):
    lab = make_lab(8)
    lab.silence(4)
    dst = lab.dst4 if family == 4 else lab.dst6
    r = trace(lab, "-n", dst, timeout=30)
    assert r.returncode == 0, r.stderr
    got = hops(r.stdout)
    want = expected(lab, family)
    want[3] = []
    assert [a for _, a, _, _ in got] == want
    assert got[3][3] == 3 and all(s == 0 for i, (_, _, _, s) in enumerate(got) if i != 3)


@pytest.mark.parametrize("gap", [None, "2"])
def test_firewalled_destination_ends_after_the_gap_with_one_line_saying_so(make_lab, gap):
    lab = make_lab(8)
    lab.firewall_dst("udp")
    n = int(gap or 5)
    r = trace(lab, "-n", *(["--gap", gap] if gap else []), lab.dst4, timeout=60)
    assert r.returncode == 0, r.stderr
    got = hops(r.stdout)
    assert [a for _, a, _, _ in got[:8]] == expected(lab, 4)[:8]
    assert [t for t, _, _, _ in got] == list(range(1, 9 + n))
    assert all(a == [] and s == 3 for _, a, _, s in got[8:])
    assert r.stdout.splitlines()[-1] == (
        f"{lab.dst4} not reached: no answer from the {n} hops after hop 8 ({lab.router4(8)}); "
        "if it drops UDP probes, try -I (ICMP echo) or -T (TCP SYN); --explain tells a "
        "filter from a rate limit")
    time.sleep(REST)
    j = trace(lab, "--json", *(["--gap", gap] if gap else []), lab.dst4, timeout=60)
    summary = json.loads(j.stdout.splitlines()[-1])
    assert (summary["reached"], summary["end"], summary["gap"], summary["hops"]) == (
        False, "gap", n, 8 + n)
    # The same through the Python API, which says it in TraceResult.end.
    time.sleep(REST)
    api = lab.run("host", [sys.executable, "-c", (
        f"import rawtools; r = rawtools.trace({lab.dst4!r}, gap={n}); "
        "print(r.end, r.gap, len(r.hops))")], timeout=60)
    assert api.stdout.split() == ["gap", str(n), str(8 + n)], api.stderr


@pytest.mark.parametrize("family,note,kind", [(4, "!H", "unreachable"), (6, "!N", "unreachable"),
                                              (4, "!N", None), (4, "!X", "prohibit")])
def test_unreachable_from_the_last_router_is_annotated(make_lab, family, note, kind):
    lab = make_lab(4)
    lab.unreachable_from_last("198.19.7.0/24", "2001:db8:77::/64", kind)
    dst = "198.19.7.7" if family == 4 else "2001:db8:77::7"
    r = trace(lab, "-n", dst, timeout=30)
    assert r.returncode == 0, r.stderr
    got = hops(r.stdout)
    last_router = lab.router4(4) if family == 4 else lab.router6(4)
    assert got[-1][0] == 4 and got[-1][1] == [last_router]
    assert note in r.stdout.splitlines()[-1]
    assert len(got) == 4


@pytest.mark.parametrize("family", [4, 6])
@pytest.mark.parametrize("method", ["udp", "icmp"])
def test_unprivileged_trace_reads_the_error_queue(make_lab, method, family):
    lab = make_lab(3)
    dst = lab.dst4 if family == 4 else lab.dst6
    r = trace(lab, "-n", "-v", *FLAG[method], dst, unprivileged=True)
    assert r.returncode == 0, r.stderr
    assert "error queue" in r.stderr
    assert [a for _, a, _, _ in hops(r.stdout)] == expected(lab, family)
    j = trace(lab, "--json", *FLAG[method], dst, unprivileged=True)
    summary = json.loads(j.stdout.splitlines()[-1])
    assert summary["mechanism"] == "dgram" and summary["reached"] is True


def test_tcp_without_privileges_is_one_clear_line(make_lab):
    lab = make_lab(1)
    r = trace(lab, "-T", "-n", lab.dst4, unprivileged=True)
    assert r.returncode == 2
    assert r.stdout == "" and len(r.stderr.splitlines()) == 1
    assert "root" in r.stderr or "CAP_NET_RAW" in r.stderr


def test_unknown_host_is_one_clear_line(make_lab):
    lab = make_lab(1)
    r = trace(lab, "no-such-host.invalid")
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and "no-such-host.invalid" in r.stderr


def test_record_then_replay_reproduces_the_report(make_lab, tmp_path):
    lab = make_lab(3)
    pcap = tmp_path / "t.pcap"
    live = trace(lab, "-n", "--record", str(pcap), lab.dst6)
    assert live.returncode == 0, live.stderr
    again = trace(lab, "--replay", str(pcap))
    assert again.returncode == 0, again.stderr
    assert again.stdout == live.stdout


def test_explain_says_why_a_hop_is_silent(make_lab):
    lab = make_lab(5)
    lab.silence(3)
    r = trace(lab, "-n", "--explain", lab.dst4, timeout=60)
    assert r.returncode == 0, r.stderr
    got = hops(r.stdout)
    assert got[2][1] == [] and got[-1][1] == [lab.dst4]
    notes = [x for x in r.stdout.splitlines() if x.startswith("explain:")]
    assert len(notes) == 1
    assert notes[0].startswith("explain: hop 3: filtered: sends no ICMP errors at all")
    assert "0/3 udp, 0/3 icmp" in notes[0]


def test_report_gives_per_hop_statistics_over_cycles(make_lab):
    lab = make_lab(3)
    r = trace(lab, "-n", "-c", "2", "--json", lab.dst6)
    assert r.returncode == 0, r.stderr
    objs = [json.loads(x) for x in r.stdout.splitlines()]
    summary = objs[-1]
    assert summary["rounds"] == 2 and summary["reached"]
    stats = summary["stats"]
    assert [s["addr"] for s in stats] == [a[0] for a in expected(lab, 6)]
    assert all(s["sent"] == 2 and s["loss_pct"] == 0.0 for s in stats)
    assert all(s["best_ms"] <= s["avg_ms"] <= s["worst_ms"] for s in stats)
    text = trace(lab, "-n", "--report", "-c", "2", lab.dst4)
    assert text.stdout.splitlines()[0].startswith("HOST:")
    assert lab.dst4 in text.stdout.splitlines()[-1]


@pytest.mark.parametrize("args", [["-s", "198.18.99.1"], ["-i", "nosuch0"],
                                  ["-I", "-s", "198.18.99.1"]])
def test_bad_source_or_interface_is_one_clear_line(make_lab, args):
    lab = make_lab(1)
    r = trace(lab, "-n", *args, lab.dst4)
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr
