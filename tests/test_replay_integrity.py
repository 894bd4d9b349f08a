"""Replays never lie: each either reproduces its recording or says where the two part.

Every recording in captures/ is replayed with options that change its plan
(count, probes per hop, first and last TTL, method, family, payload, tries).
The oracle is the fixture itself: its .txt holds what the live run printed,
and its packets say what was sent. A replay given the recorded options must
print exactly that; given others, it must either still print exactly that
(an option that happens not to matter for this recording) or stop with one
line naming the probe where it diverged, exit code 3 (`ReplayDiverged`).
"""

from __future__ import annotations

import shlex
import struct

import pytest
from clirun import one_line_error, run_cli
from conftest import CAPTURES, CORPUS

from rawtools.errors import ReplayDiverged
from rawtools.io.pcapfile import read_packets

DIVERGED = ReplayDiverged.exit_code


def recorded(pcap):
    """(options, stdout, exit code) of the live run, from the fixture's .txt."""
    lines = pcap.with_suffix(".txt").read_text().splitlines(keepends=True)
    args = shlex.split(lines[0].removeprefix("args: "))
    if "--socket" in args:  # the socket kind is in the recording, not an option of a replay
        i = args.index("--socket")
        del args[i:i + 2]
    return args, "".join(lines[1:-1]), int(lines[-1].split()[1])


def replay(tool, pcap, *args):
    return run_cli(tool, "--replay", str(pcap), *args)


def _family(pcap):
    return 6 if "6" in pcap.stem.split("-")[1] else 4


# (extra options, must it diverge?) per tool; None: either outcome is honest, as long as
# it is one of the two (the option only changes timing, which may or may not matter here).
def trace_variants(pcap):
    args, _, _ = recorded(pcap)
    method = "-I" if "-I" in args else "-T" if "-T" in args else "-U"
    v = _family(pcap)
    out = [(["-q", "3"], False), (["-q", "1"], True), (["-q", "2"], True),
           (["-f", "1"], False), (["-f", "2"], True), (["-m", "30"], False),
           (["-m", "5"], True), (["-m", "29"], True), ([f"-{v}"], False),
           ([f"-{10 - v}"], True), (["-c", "2"], True), (["-N", "1"], None),
           (["-w", "1"], None), (["-z", "0.01"], None)]
    for m in ("-U", "-I", "-T"):
        out.append(([m], m != method))
    return out


def ping_variants(pcap):
    args, _, _ = recorded(pcap)
    v = _family(pcap)
    out = [([f"-{v}"], False), ([f"-{10 - v}"], True), (["-i", "0.7"], None),
           (["-W", "0.2"], None)]
    if "-g" not in args:
        n = int(args[args.index("-c") + 1])
        ttl = int(args[args.index("-t") + 1]) if "-t" in args else None
        out += [(["-c", str(n)], False), (["-c", "1"], True), (["-c", str(n + 1)], True),
                (["-c", "10"], True), (["-s", "56"], False), (["-s", "100"], True),
                (["-t", "7"], True)]
        if ttl is not None:
            out.append((["-t", str(ttl)], False))
    else:
        out += [(["-c", "1"], True), (["--retries", "0"], True), (["--retries", "1"], False)]
    return out


def udpcksum_variants(pcap):
    args, _, _ = recorded(pcap)
    tries = 3 if "timeout" in pcap.stem else 1
    v = _family(pcap)
    out = [(["-0"], True), (["--payload", "00ff"], True), (["-q", "example.net"], True),
           ([f"-{v}"], False), ([f"-{10 - v}"], True), (["-r", "2"], False),
           (["-r", "1" if tries > 1 else "0"], tries > 1), (["-r", "5"], tries > 1),
           (["-w", "0.25"], True if tries > 1 else None)]
    if "--ntp" not in args:
        out.append((["--ntp"], True))
    return out


CASES = [(tool, pcap, extra, diverge)
         for tool, variants in (("ping", ping_variants), ("trace", trace_variants),
                                ("udpcksum", udpcksum_variants))
         for pcap in sorted(CAPTURES.glob(f"{tool}-*.pcap"))
         for extra, diverge in variants(pcap)]


@pytest.mark.parametrize("tool,pcap,extra,diverge", CASES,
                         ids=[f"{c[1].stem}:{' '.join(c[2])}" for c in CASES])
def test_replay_reproduces_or_says_where_it_diverged(tool, pcap, extra, diverge):
    args, out, code = recorded(pcap)
    exclusive = ("-U", "-I", "-T", "--ntp", "--payload", "-q")
    if extra[0] in exclusive:  # argparse refuses two of one group; the variant replaces it
        args = [a for a in args if a not in exclusive]
    r = replay(tool, pcap, *args, *extra)  # the last of a repeated option counts
    exact = (r.stdout, r.stderr, r.returncode) == (out, "", code)
    if diverge is False:
        assert exact, (r.returncode, r.stdout, r.stderr)
    elif diverge:
        assert "diverges" in one_line_error(r, DIVERGED)
    else:
        assert exact or "diverges" in one_line_error(r, DIVERGED)


def test_a_trace_replayed_with_fewer_probes_per_hop_names_the_probe():
    # trace-udp4 was recorded with -q 3: probes 1-3 went with TTL 1, so with -q 1 the
    # second probe (TTL 2 here) is where the two runs part.
    line = one_line_error(replay("trace", CAPTURES / "trace-udp4.pcap", "-q", "1", "-n"),
                          DIVERGED)
    assert "probe 2" in line and "TTL 1" in line and "TTL 2" in line


def test_a_ping_replayed_with_a_larger_count_says_the_recording_ends():
    pcap = CAPTURES / "ping-v4-dup.pcap"  # 3 echo requests recorded
    r = replay("ping", pcap, "-c", "10")
    line = one_line_error(r, DIVERGED)
    assert "probe 4" in line and "3" in line
    assert "transmitted" not in r.stdout  # no summary claiming a 4th probe was lost


def test_a_ping_recording_is_not_a_trace_recording():
    line = one_line_error(replay("trace", CAPTURES / "ping-v4-raw.pcap"))
    assert "not a trace recording" in line
    assert "traceroute to" not in replay("trace", CAPTURES / "ping-v4-raw.pcap").stdout


def test_an_ethernet_capture_of_something_else_is_not_a_trace_recording():
    pcap = CORPUS / "IGMP_V1.pcap"
    r = replay("trace", pcap)
    assert "not a trace recording" in one_line_error(r) and r.stdout == ""


def _write_pcap(path, linktype, records):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, linktype))
        for ts, data in records:
            f.write(struct.pack("<IIII", *divmod(ts, 10**9), len(data), len(data)) + data)


def test_a_trace_captured_on_ethernet_replays_like_the_recording(tmp_path):
    pcap = CAPTURES / "trace-udp4.pcap"
    _, records = read_packets(str(pcap))
    eth = tmp_path / "eth.pcap"
    hdr = bytes.fromhex("020000000002" "020000000001" "0800")
    _write_pcap(eth, 1, [(ts, hdr + d) for ts, d in records])
    args, out, code = recorded(pcap)
    r = replay("trace", eth, *args)
    assert (r.stdout, r.stderr, r.returncode) == (out, "", code)


def test_a_truncated_trace_recording_shows_the_hops_whose_answers_survive(tmp_path):
    # trace-udp4.pcap: records 1-16 are the probes (TTL 1-5 three times, then the
    # scout), 17 and 18 hop 1's first two answers.
    pcap = CAPTURES / "trace-udp4.pcap"
    data = pcap.read_bytes()
    cut = tmp_path / "cut.pcap"
    sizes = [len(d) for _, d in read_packets(str(pcap))[1]]
    whole = 24 + sum(16 + n for n in sizes[:18])
    cut.write_bytes(data[:whole + 30])  # record 19 cut in the middle
    _, out, _ = recorded(pcap)
    first = {ln.split()[0]: ln for ln in out.splitlines()[1:]}
    r = replay("trace", cut, "-n")
    assert "record 19" in one_line_error(r) and "cut short" in r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == out.splitlines()[0]
    # Each surviving answer is an RTT the live run printed for that hop; the probe
    # whose answer was cut off is left out, not shown as lost.
    assert lines[1:] == [first["1"][:len(lines[1])]]
    assert lines[1].count(" ms") == 2 and lines[1].endswith(" ms")


def test_a_ping_recording_with_a_zeroed_record_length_is_corrupt(tmp_path):
    pcap = CAPTURES / "ping-v4-raw.pcap"
    data = bytearray(pcap.read_bytes())
    sizes = [len(d) for _, d in read_packets(str(pcap))[1]]
    off = 24 + sum(16 + n for n in sizes[:2])  # the header of record 3
    data[off + 8:off + 16] = bytes(8)  # caplen and len zeroed
    bad = tmp_path / "zeroed.pcap"
    bad.write_bytes(bytes(data))
    r = replay("ping", bad)
    assert "corrupt at record 3" in one_line_error(r) and r.stdout == ""
