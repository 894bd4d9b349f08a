"""`rawtools trace` front end: bad input is one line and exit 2; the text is traceroute's."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from conftest import rawtools_argv

from rawtools.errors import UsageError
from rawtools.tools.trace.config import trace_config
from rawtools.tools.trace.hops import Hop, Probe
from rawtools.tools.trace.render import hop_line, hop_record, report_table
from rawtools.tools.trace.report import report_stats
from rawtools.wire.ip import build_ipv4, build_ipv6

MS = 1_000_000


@pytest.mark.parametrize("args,needle", [
    (["-m", "0", "198.18.0.1"], "max hops"),
    (["-m", "256", "198.18.0.1"], "255"),
    (["-f", "5", "-m", "3", "198.18.0.1"], "first hop 5"),
    (["-q", "0", "198.18.0.1"], "probes per hop"),
    (["-w", "0", "198.18.0.1"], "-w"),
    (["-w", "soon", "198.18.0.1"], "-w"),
    (["-p", "70000", "198.18.0.1"], "port"),
    (["::ffff:198.18.0.1"], "IPv4-mapped"),
    (["-4", "2001:db8::1"], "not an IPv4 address"),
    ([], "host"),
    (["--replay", "/nonexistent/trace.pcap"], "/nonexistent/trace.pcap"),
    # issue 11, defect 1: nan and inf got past the range checks (a traceback)
    (["-w", "inf", "198.18.0.1"], "invalid wait (-w): 'inf'"),
    (["-w", "nan", "198.18.0.1"], "invalid wait (-w): 'nan'"),
    (["-z", "nan", "198.18.0.1"], "invalid pause (-z): 'nan'"),
    (["-z", "inf", "198.18.0.1"], "invalid pause (-z): 'inf'"),
    # defect 7: the probes' ports run from -p upwards; 65535 passed, then sendto failed
    (["-p", "65535", "198.18.0.1"], "port"),
    # issue 13: the gap limit
    (["--gap", "0", "198.18.0.1"], "invalid gap limit (--gap): '0'"),
    (["--gap", "256", "198.18.0.1"], "invalid gap limit (--gap): '256'"),
    (["--gap", str(10**30), "198.18.0.1"], "gap limit (--gap)"),
    (["--gap", "nan", "198.18.0.1"], "--gap"),
    (["--gap", "inf", "198.18.0.1"], "--gap"),
    (["--gap", "", "198.18.0.1"], "--gap"),
    (["--gap", "2.5", "198.18.0.1"], "--gap"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle):
    r = subprocess.run(rawtools_argv("trace", *args), capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and needle in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("max_ttl,nqueries", [(30, 3), (5, 1), (255, 10), (1, 1)])
def test_udp_ports_stay_within_65535(max_ttl, nqueries):
    # Arithmetic oracle: a round uses tags 0 (the scout) to max_ttl * nqueries, one port
    # each from -p up, so the highest base port allowed is 65535 - max_ttl * nqueries.
    top = 65535 - max_ttl * nqueries
    trace_config("198.18.0.1", port=top, max_ttl=max_ttl, nqueries=nqueries)
    with pytest.raises(UsageError, match=f"at most {top}"):
        trace_config("198.18.0.1", port=top + 1, max_ttl=max_ttl, nqueries=nqueries)
    # The fixed port of TCP, ICMP's none and Paris' fixed flow may be anything.
    trace_config("198.18.0.1", port=65535, method="tcp", max_ttl=max_ttl, nqueries=nqueries)
    trace_config("198.18.0.1", port=65535, paris=True, max_ttl=max_ttl, nqueries=nqueries)


@pytest.mark.parametrize("gap", [0, -1, 256, 10**30, 2.5, math.nan, math.inf, "5", "", None,
                                 True, b"5"])
def test_the_api_refuses_a_bad_gap_as_the_cli_does(gap):
    with pytest.raises(UsageError, match="gap limit"):
        trace_config("198.18.0.1", gap=gap)


def probe(ttl, i, addr, rtt_ms=None, note="", tries=1):
    return Probe(ttl, i, addr, None if rtt_ms is None else int(rtt_ms * MS),
                 "time-exceeded" if addr else None, note, tries,
                 answered_try=tries if addr else None)


def test_line_prints_the_address_again_only_when_it_changes():
    hop = Hop(7, [probe(7, 0, "198.18.6.2", 0.5), probe(7, 1, None),
                  probe(7, 2, "198.18.66.2", 1.25)])
    assert hop_line(hop) == " 7  198.18.6.2  0.500 ms * 198.18.66.2  1.250 ms"
    same = Hop(12, [probe(12, i, "198.18.6.2", 0.1) for i in range(3)])
    assert hop_line(same) == "12  198.18.6.2  0.100 ms  0.100 ms  0.100 ms"
    assert hop_line(Hop(3, [probe(3, i, None) for i in range(3)])) == " 3  * * *"


def test_annotations_follow_each_rtt_and_names_replace_addresses():
    hop = Hop(4, [probe(4, 0, "198.18.3.2", 0.01, "!H"), probe(4, 1, None)])
    assert hop_line(hop) == " 4  198.18.3.2  0.010 ms !H *"
    named = hop_line(hop, lambda a: f"r4.lab ({a})")
    assert named == " 4  r4.lab (198.18.3.2)  0.010 ms !H *"


def test_report_statistics_over_rounds():
    rounds = [[Hop(1, [probe(1, 0, "198.18.0.2", x)])] for x in (1.0, 3.0)]
    rounds.append([Hop(1, [probe(1, 0, None)])])
    (stats,) = report_stats(rounds)
    f = stats.figures()
    assert f["sent"] == 3 and round(f["loss_pct"], 1) == 33.3
    assert (f["best_ms"], f["worst_ms"], f["avg_ms"], f["last_ms"]) == (1.0, 3.0, 2.0, 3.0)
    assert f["stdev_ms"] == 1.0
    table = report_table("198.18.0.9", report_stats(rounds))
    assert "198.18.0.2" in table.splitlines()[1] and "33.3%" in table


def test_a_star_stays_where_a_retry_answered_and_the_report_counts_every_try():
    # Hop 5: the three probes lost (a router out of ICMP budget), the second
    # retry of the last one answered: 5 tries, 1 answer.
    hop = Hop(5, [probe(5, 0, None), probe(5, 1, None), probe(5, 2, "198.18.4.2", 0.25, tries=3)])
    assert hop_line(hop) == " 5  * * * 198.18.4.2  0.250 ms (retry)"
    rec = hop_record(hop)
    assert [(p["tries"], p["answered_try"]) for p in rec["probes"]] == [(1, None), (1, None),
                                                                          (3, 3)]
    (stats,) = report_stats([[hop]])
    assert stats.figures()["sent"] == 5 and stats.figures()["loss_pct"] == 80.0


def test_a_live_trace_starts_without_dpkt_json_or_the_extension_decoder():
    """Start-up is most of a short trace's time: what only recordings, replays, --json
    and -e need stays unloaded, and so does dpkt when a probe's datagram is built
    (live, one is built for every probe sent, and loading dpkt then held the
    second probe back by some 50 ms, a round trip on a real path)."""
    code = (
        "import sys, rawtools.cli, rawtools.tools.trace.cli\n"
        "from rawtools.io.probesock import ProbeSocket\n"
        "from rawtools.wire.ip import build_ip\n"
        "from rawtools.wire.probes import ProbeSpec\n"
        "spec = ProbeSpec('udp', 4, '198.18.0.1', '198.18.8.2', 33434, False, sport=4000)\n"
        "build_ip(spec.src, spec.dst, 17, 1, spec.build(0))\n"
        "build_ip('2001:db8::1', '2001:db8::2', 58, 1, b'x')\n"
        "print(sorted(m for m in ('dpkt', 'json', 'rawtools.wire.icmpext', "
        "'rawtools.io.pcapfile') if m in sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert r.stdout.strip() == "[]", r.stderr


@pytest.mark.parametrize("src,dst,proto,ttl,size,ident", [
    ("198.18.0.1", "198.18.8.2", 17, 1, 32, 0), ("198.19.255.1", "198.19.0.2", 1, 255, 0, 65535),
    ("2001:db8::1", "2001:db8:0:8::2", 58, 64, 40, 0), ("::1", "::2", 6, 1, 1400, 0)])
def test_ip_headers_built_without_dpkt_are_dpkts_byte_for_byte(src, dst, proto, ttl, size,
                                                                 ident):
    import socket

    import dpkt

    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    if ":" in src:
        ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, src),
                           dst=socket.inet_pton(socket.AF_INET6, dst), nxt=proto, hlim=ttl,
                           plen=size)
        assert build_ipv6(src, dst, proto, ttl, payload) == bytes(ip6.pack_hdr()) + payload
    else:
        ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=proto, ttl=ttl,
                        id=ident, data=payload)
        ip.len = 20 + size
        assert build_ipv4(src, dst, proto, ttl, payload, ident) == bytes(ip)


def test_the_report_has_no_row_past_where_any_round_found_the_path_ends():
    # Round 1 did not find the destination (its probes lost) and printed silent
    # lines up to its gap; round 2 found it at hop 2. Lines past hop 2 are
    # probes sent past the destination: no row, and not the destination's.
    dst = Probe(2, 0, "198.18.1.2", MS, "unreachable", "", 1, answered_try=1)
    rounds = [[Hop(1, [probe(1, 0, "198.18.0.2", 1.0)]), Hop(2, [probe(2, 0, None)]),
               Hop(3, [probe(3, 0, None)]), Hop(4, [probe(4, 0, None)])],
              [Hop(1, [probe(1, 0, "198.18.0.2", 1.0)]), Hop(2, [dst])]]
    assert [(s.ttl, s.sent, s.loss) for s in report_stats(rounds)] == [(1, 2, 0.0),
                                                                       (2, 2, 50.0)]
