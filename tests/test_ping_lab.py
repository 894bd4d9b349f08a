"""rawtools ping against real kernels in a namespace lab, beside iputils ping."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from conftest import rawtools_argv, without_privileges
from iputils_oracle import PingText, iputils_rtt_line, parse_ping, time_to_us

from rawtools.tools.ping.engine import rtt_stats_us
from rawtools.tools.ping.render import fmt_ms3

REPLY = re.compile(r"^(\d+) bytes from (\S+): icmp_seq=(\d+) ttl=(\d+) time=([\d.]+) ms")


def ping(lab, *args, node="host", unprivileged=False, timeout=60):
    argv = rawtools_argv("ping", *args)
    if unprivileged:
        argv = without_privileges(argv)
    return lab.run(node, argv, timeout=timeout)


def replies(text: str) -> list[tuple[str, int, int, float]]:
    out = []
    for line in text.splitlines():
        m = REPLY.match(line)
        if m:
            out.append((m.group(2), int(m.group(3)), int(m.group(4)), float(m.group(5))))
    return out


@pytest.mark.parametrize("mech", ["raw", "dgram"])
@pytest.mark.parametrize("family", [4, 6])
def test_every_reply_with_ttl_lowered_by_the_hops(lab3, family, mech):
    dst = lab3.dst4 if family == 4 else lab3.dst6
    r = ping(lab3, "-c", "3", "-i", "0.2", "--socket", mech, "-v", dst)
    assert r.returncode == 0, r.stderr
    got = replies(r.stdout)
    assert [(a, s, t) for a, s, t, _ in got] == [(dst, i, 64 - 3) for i in (1, 2, 3)]
    assert "3 packets transmitted, 3 received, 0% packet loss" in r.stdout
    assert f"used {mech} ICMP socket" in r.stderr
    # the statistics line is iputils' arithmetic on the RTTs the run printed
    assert parse_ping(r.stdout).rtt_line == iputils_rtt_line(printed_us(parse_ping(r.stdout)))


def printed_us(text: PingText) -> list[int]:
    """The RTTs a ping printed (replies and duplicates), in microseconds."""
    return [time_to_us(t) for t in text.times]


def rawtools_rtt_line(rtts_us: list[int]) -> str:
    """rawtools' statistics code and formatting applied to given RTTs."""
    st = rtt_stats_us(rtts_us)
    assert st is not None
    return (f"rtt min/avg/max/mdev = {fmt_ms3(st.min_us)}/{fmt_ms3(st.avg_us)}/"
            f"{fmt_ms3(st.max_us)}/{fmt_ms3(st.mdev_us)} ms")


def iputils_run(lab, *args: str, tries: int = 3) -> PingText:
    """iputils ping in the lab, parsed; run again if a time was printed rounded (>= 1 ms)."""
    for _ in range(tries):
        r = lab.run("host", ["ping", *args])
        assert r.returncode in (0, 1), r.stderr
        text = parse_ping(r.stdout)
        if all(len(t.partition(".")[2]) == 3 for t in text.times):
            return text
    pytest.skip("iputils kept printing RTTs of 1 ms or more: their microseconds are lost")


@pytest.mark.parametrize("family", [4, 6])
def test_same_replies_and_ttls_as_iputils_ping(lab3, family):
    if shutil.which("ping") is None:
        pytest.skip("iputils-ping not installed")
    dst = lab3.dst4 if family == 4 else lab3.dst6
    ours = ping(lab3, "-c", "4", "-i", "0.2", dst)
    assert ours.returncode == 0
    a = parse_ping(ours.stdout)
    b = iputils_run(lab3, "-c", "4", "-i", "0.2", dst)
    # what must agree with iputils run on the same lab: every reply's size,
    # source, sequence number and TTL, the counts and the loss
    assert [x[:4] for x in a.replies] == [x[:4] for x in b.replies]
    assert (a.transmitted, a.received, a.duplicates, a.loss) == \
        (b.transmitted, b.received, b.duplicates, b.loss) == (4, 4, 0, "0")
    # iputils' own summary from iputils' own RTTs: rawtools' statistics code
    # fed those RTTs prints iputils' line digit for digit
    assert rawtools_rtt_line(printed_us(b)) == b.rtt_line
    # and rawtools' line follows the same rule on rawtools' RTTs
    assert a.rtt_line == rawtools_rtt_line(printed_us(a)) == iputils_rtt_line(printed_us(a))
    # RTTs of two runs are not equal, but over a veth lab both are well below a
    # millisecond; ours must not be slower than iputils' by more than scheduling noise
    assert max(printed_us(a)) < max(printed_us(b)) * 5 + 500


def test_statistics_of_iputils_rtts_over_many_runs_match_iputils(lab3):
    """Nine iputils runs of 5 probes: rawtools' statistics on iputils' RTTs = iputils' line.

    (Issue 14 saw the old formula differ from iputils in 4 runs of 9.)
    """
    if shutil.which("ping") is None:
        pytest.skip("iputils-ping not installed")
    differ = []
    for i in range(9):
        # iputils prints a reply's time to the microsecond only under 1 ms (then 2, 1 and
        # 0 decimals): a run slowed that much by a busy machine cannot be an oracle.
        for _ in range(5):
            b = iputils_run(lab3, "-c", "5", "-i", "0.01" if i % 2 else "0.2", lab3.dst4)
            if max(printed_us(b), default=0) < 1000:
                break
        assert b.received == 5
        # rawtools' code equals the test's own rewrite of iputils' formula every time...
        assert rawtools_rtt_line(printed_us(b)) == iputils_rtt_line(printed_us(b))
        if rawtools_rtt_line(printed_us(b)) != b.rtt_line:
            differ.append((printed_us(b), b.rtt_line))
    # ...and that formula gives iputils' own printed line. One CI run in many saw
    # iputils' mdev 1 us below what its printed times give (0.017 for 0.018), not yet
    # explained; one such run in nine is allowed, the old formula missed four.
    assert len(differ) <= 1, differ


@pytest.mark.parametrize("mech", ["raw", "dgram"])
@pytest.mark.parametrize("family", [4, 6])
def test_ttl_2_gets_time_exceeded_from_r2(lab3, family, mech):
    dst, r2 = (lab3.dst4, lab3.router4(2)) if family == 4 else (lab3.dst6, lab3.router6(2))
    text = "Time to live exceeded" if family == 4 else "Time exceeded: Hop limit"
    r = ping(lab3, "-c", "2", "-i", "0.2", "-t", "2", "--socket", mech, dst)
    assert r.returncode == 1
    assert f"From {r2} icmp_seq=1 {text}" in r.stdout
    assert "2 packets transmitted, 0 received, +2 errors, 100% packet loss" in r.stdout
    if shutil.which("ping"):
        theirs = lab3.run("host", ["ping", "-c", "1", "-t", "2", dst])
        assert f"From {r2} icmp_seq=1 {text}" in theirs.stdout


@pytest.mark.parametrize("family", [4, 6])
def test_firewalled_destination_is_total_loss_exit_1(lab3, family):
    lab3.firewall_dst("icmp")
    dst = lab3.dst4 if family == 4 else lab3.dst6
    r = ping(lab3, "-c", "2", "-i", "0.2", "-W", "1", dst)
    assert r.returncode == 1
    assert "2 packets transmitted, 0 received, 100% packet loss" in r.stdout
    assert not replies(r.stdout)


def test_missing_destination_is_total_loss_exit_1(lab3):
    r = ping(lab3, "-c", "1", "-W", "1", "198.18.3.99")
    assert r.returncode == 1
    assert "1 packets transmitted, 0 received" in r.stdout and "100% packet loss" in r.stdout


def test_sweep_of_a_24_finds_exactly_the_live_addresses(make_lab):
    live = ["198.18.9.1", "198.18.9.7", "198.18.9.77", "198.18.9.254"]
    lab = make_lab(2, extra_dst4=live)
    r = ping(lab, "-g", "198.18.9.0/24", "--json")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["schema"] == "rawtools/1"
    assert sorted(summary["alive"]) == sorted(live)
    assert len(summary["targets"]) == 254
    text = ping(lab, "-g", "198.18.9.0/24")
    alive = {ln.split()[0] for ln in text.stdout.splitlines() if ln.endswith(" is alive")}
    assert alive == set(live)


def test_several_targets_at_once(make_lab):
    lab = make_lab(1, extra_dst4=["198.18.9.5"])
    r = ping(lab, "-c", "2", "-i", "0.2", lab.dst4, "198.18.9.5", "198.18.9.6")
    assert r.returncode == 0
    assert re.search(r"198\.18\.9\.5\s+: xmt/rcv/%loss = 2/2/0%", r.stdout)
    assert re.search(r"198\.18\.9\.6\s+: xmt/rcv/%loss = 2/0/100%", r.stdout)


def test_unprivileged_ping_uses_datagram_socket_and_sees_router_errors(lab3):
    r = ping(lab3, "-c", "1", "-t", "1", "-v", lab3.dst4, unprivileged=True)
    assert f"From {lab3.router4(1)} icmp_seq=1 Time to live exceeded" in r.stdout
    assert "used dgram ICMP socket" in r.stderr
    r = ping(lab3, "-c", "1", "--socket", "raw", lab3.dst4, unprivileged=True)
    assert r.returncode == 2
    assert "CAP_NET_RAW" in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("family", [4, 6])
def test_record_then_replay_without_privileges_gives_the_same_report(lab3, tmp_path, family):
    dst = lab3.dst4 if family == 4 else lab3.dst6
    pcap = tmp_path / "run.pcap"
    live = ping(lab3, "-c", "3", "-i", "0.2", "--socket", "raw", "--record", str(pcap), dst)
    assert live.returncode == 0
    again = ping(lab3, "--replay", str(pcap), dst, unprivileged=True)
    assert again.returncode == 0, again.stderr
    assert again.stdout == live.stdout
    if shutil.which("tcpdump"):
        read = lab3.run("host", ["tcpdump", "-nr", str(pcap)])
        assert read.returncode == 0
        assert len(read.stdout.splitlines()) == 6  # 3 requests, 3 replies


def test_record_replay_of_router_errors_via_the_error_queue(lab3, tmp_path):
    pcap = tmp_path / "ttl.pcap"
    live = ping(lab3, "-c", "2", "-i", "0.2", "-t", "2", "--socket", "dgram", "--record",
                str(pcap), lab3.dst4)
    again = ping(lab3, "--replay", str(pcap))
    assert again.stdout == live.stdout and again.returncode == live.returncode == 1


def test_interface_and_bad_interface(lab3):
    r = ping(lab3, "-c", "1", "-I", lab3.host_if, lab3.dst4)
    assert r.returncode == 0
    # iputils names the interface in its header as "from SRC DEV:"; the same
    # frame for both (rawtools leaves SRC empty where iputils shows the address)
    heads = [r.stdout.splitlines()[0]]
    if shutil.which("ping"):
        theirs = lab3.run("host", ["ping", "-c", "1", "-I", lab3.host_if, lab3.dst4])
        heads.append(theirs.stdout.splitlines()[0])
    for head in heads:
        assert head.startswith(f"PING {lab3.dst4} ({lab3.dst4}) from "), head
        assert head.endswith(f" {lab3.host_if}: 56(84) bytes of data."), head
    r = ping(lab3, "-c", "1", "-I", "nosuch0", lab3.dst4)
    assert r.returncode == 2 and "nosuch0" in r.stderr
    assert "Traceback" not in r.stderr


def test_unknown_host_inside_an_isolated_namespace(lab3):
    # The lab namespaces have no route to any resolver, so nothing leaves.
    r = ping(lab3, "-c", "1", "no-such-host.invalid")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "no-such-host.invalid" in r.stderr


def test_json_reply_events_say_which_clock_timed_them(lab3):
    r = ping(lab3, "-c", "2", "-i", "0.2", "--json", lab3.dst6)
    objs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["type"] for o in objs] == ["reply", "reply", "summary"]
    assert all(o["clock"] == "kernel" for o in objs[:2])
    t = objs[-1]["targets"][0]
    assert t["received"] == 2 and t["clocks"] == {"kernel": 2}
    assert objs[-1]["mechanism"] in ("raw", "dgram")


def test_replay_of_a_tcpdump_capture_of_the_run(lab3, tmp_path):
    """A tcpdump (Ethernet) capture of a live run replays to the same replies.

    The RTTs differ a little: tcpdump stamps at the interface, the socket's
    kernel timestamp is taken later, so only addresses, seqs and TTLs compare.
    """
    if shutil.which("tcpdump") is None:
        pytest.skip("tcpdump not installed")
    import subprocess
    import time
    pcap = tmp_path / "eth.pcap"
    dump = subprocess.Popen(lab3.exec_argv("host", [
        "tcpdump", "-i", lab3.host_if, "-U", "--immediate-mode", "-w", str(pcap),
        "icmp"]), stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        live = ping(lab3, "-c", "3", "-i", "0.2", lab3.dst4)
        time.sleep(0.3)
    finally:
        dump.terminate()
        dump.wait(timeout=10)
    again = ping(lab3, "--replay", str(pcap), "-c", "3", "-i", "0.2")
    assert again.returncode == live.returncode == 0, again.stderr
    assert [x[:3] for x in replies(again.stdout)] == [x[:3] for x in replies(live.stdout)]


@pytest.mark.parametrize("mech", ["raw", "dgram"])
def test_net_unreachable_from_the_last_router_like_iputils(make_lab, mech):
    lab = make_lab(3)
    lab.unreachable_from_last("198.19.7.0/24", kind=None)
    r = ping(lab, "-c", "1", "--socket", mech, "198.19.7.7")
    assert r.returncode == 1
    assert f"From {lab.router4(3)} icmp_seq=1 Destination Net Unreachable" in r.stdout
    assert "1 packets transmitted, 0 received, +1 errors, 100% packet loss" in r.stdout


def test_duplicates_are_marked_and_counted_like_iputils(make_lab):
    lab = make_lab(2)
    lab.duplicate_to_host(1)
    r = ping(lab, "-c", "3", "-i", "0.2", lab.dst4)
    assert r.returncode == 0
    lines = [ln for ln in r.stdout.splitlines() if "bytes from" in ln]
    assert sum(ln.endswith("(DUP!)") for ln in lines) == 2  # the last one comes after exit
    assert "3 packets transmitted, 3 received, +2 duplicates, 0% packet loss" in r.stdout
    a = parse_ping(r.stdout)
    # duplicates' RTTs count in the statistics, as in iputils
    assert a.rtt_line == iputils_rtt_line(printed_us(a))
    if shutil.which("ping"):
        # About once in a hundred runs with duplicates iputils prints an mdev its own
        # formula does not give from the RTTs it printed (seen, not explained): such a
        # run cannot serve as the oracle, so it is run again, three times at most.
        for _ in range(3):
            b = iputils_run(lab, "-c", "3", "-i", "0.2", lab.dst4)
            if iputils_rtt_line(printed_us(b)) == b.rtt_line:
                break
        else:
            pytest.fail(f"iputils' rtt line never matched its printed RTTs: {b.rtt_line}")
        assert (b.transmitted, b.received, b.duplicates) == (3, 3, 2)
        assert [(x[2], x[5]) for x in a.replies] == [(x[2], x[5]) for x in b.replies]
        assert rawtools_rtt_line(printed_us(b)) == b.rtt_line


@pytest.mark.parametrize("mech", ["raw", "dgram"])
def test_ipv4_and_ipv6_targets_in_one_run(make_lab, mech):
    """One run, one socket per family: each target answers as iputils finds it does."""
    lab = make_lab(2, extra_dst4=["198.18.9.5"], extra_dst6=["2001:db8:0:99::5"])
    up = [lab.dst4, lab.dst6, "198.18.9.5", "2001:db8:0:99::5"]
    down = ["198.18.9.6", "2001:db8:0:99::6"]
    r = ping(lab, "-c", "2", "-i", "0.2", "-W", "1", "--socket", mech, "--json", *up, *down)
    summary = json.loads(r.stdout.splitlines()[-1])
    ours = {t["addr"]: t["received"] for t in summary["targets"]}
    for addr in up + down:
        theirs = lab.run("host", ["ping", "-n", "-c", "1", "-W", "1", addr])
        assert (ours[addr] > 0) == (theirs.returncode == 0), (addr, ours, theirs.stdout)
    assert sorted(summary["alive"]) == sorted(up)


def test_a_run_of_both_families_replays_as_recorded(make_lab, tmp_path):
    """The replay finds our address in each family (the first datagram of each is ours)."""
    import os

    lab = make_lab(1)
    os.chmod(tmp_path, 0o777)
    pcap = tmp_path / "mixed.pcap"
    live = ping(lab, "-c", "2", "-i", "0.2", "--record", str(pcap), lab.dst4, lab.dst6)
    assert live.returncode == 0, live.stderr
    again = ping(lab, "--replay", str(pcap), "-c", "2", "-i", "0.2")
    assert again.returncode == 0, again.stderr
    assert again.stdout == live.stdout
