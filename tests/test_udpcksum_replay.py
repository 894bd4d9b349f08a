"""Replaying the recorded udpcksum fixtures in captures/ reproduces each live report exactly.

No privileges and no network: the engine runs on the recording's clock, so
the timeouts fall as they fell live. A replay given other options than the
recorded run says where the two part.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess

import pytest
from conftest import CAPTURES, rawtools_argv

import rawtools

FIXTURES = sorted(CAPTURES.glob("udpcksum-*.pcap"))


def replay(pcap, *args):
    return subprocess.run(rawtools_argv("udpcksum", "--replay", str(pcap), *args),
                          capture_output=True, text=True, timeout=30)


def recorded_args(pcap) -> list[str]:
    first = pcap.with_suffix(".txt").read_text().splitlines()[0]
    return shlex.split(first.removeprefix("args: "))


def test_there_are_fixtures_for_on_off_no_server_and_timeout():
    names = {p.stem for p in FIXTURES}
    assert {"udpcksum-on4", "udpcksum-off4", "udpcksum-noserver4", "udpcksum-timeout4",
            "udpcksum-on6", "udpcksum-noserver6", "udpcksum-offload4"} <= names


@pytest.mark.parametrize("pcap", FIXTURES, ids=lambda p: p.stem)
def test_replay_reproduces_the_recorded_report(pcap):
    lines = pcap.with_suffix(".txt").read_text().splitlines(keepends=True)
    expected_out, expected_rc = "".join(lines[1:-1]), int(lines[-1].split()[1])
    r = replay(pcap, *recorded_args(pcap))
    assert r.stderr == ""
    assert r.stdout == expected_out
    assert r.returncode == expected_rc


def test_the_recording_alone_is_enough():
    pcap = CAPTURES / "udpcksum-off4.pcap"
    r = replay(pcap)
    assert r.returncode == 0 and "UDP checksums off" in r.stdout
    assert r.stdout.splitlines()[0].startswith("udpcksum to 198.18.1.2 port 54: ")


def test_the_api_replays_into_a_typed_result():
    on = rawtools.udpcksum(replay=str(CAPTURES / "udpcksum-on4.pcap"))
    assert isinstance(on, rawtools.UdpCksumResult)
    assert (on.outcome, on.checksums, on.verdict, on.mechanism) == ("reply", "on", "valid",
                                                                    "replay")
    assert on.reply is not None and on.reply.ttl == 63 and on.reply.bytes == 79
    assert on.reply.checksum == on.reply.expected
    gone = rawtools.udpcksum(replay=str(CAPTURES / "udpcksum-noserver6.pcap"))
    assert (gone.outcome, gone.checksums, gone.reply) == ("no-server", None, None)
    assert gone.icmp is not None and (gone.icmp.type, gone.icmp.code) == (1, 4)
    silent = rawtools.udpcksum(replay=str(CAPTURES / "udpcksum-timeout4.pcap"), wait=0.5)
    assert (silent.outcome, silent.tries) == ("no-response", 3)


def test_json_is_events_then_the_results_summary():
    pcap = CAPTURES / "udpcksum-offload4.pcap"
    r = replay(pcap, "--json")
    objs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["type"] for o in objs] == ["sent", "summary"]
    assert all(o["schema"] == "rawtools/1" and o["tool"] == "udpcksum" for o in objs)
    s = objs[-1]
    assert (s["outcome"], s["checksums"], s["verdict"]) == ("reply", "on", "unverifiable")
    assert s["reply"]["reason"] == "offload" and s["reply"]["checksum"] == 0x8D74
    assert s["reply"]["expected"] == 0xCBB4 and s["reply"]["pseudo_sum"] == 0x8D74
    timeout = [json.loads(x) for x in replay(CAPTURES / "udpcksum-timeout4.pcap",
                                             *recorded_args(CAPTURES / "udpcksum-timeout4.pcap"),
                                             "--json").stdout.splitlines()]
    assert [o["type"] for o in timeout] == ["sent", "timeout", "sent", "timeout", "sent",
                                            "timeout", "summary"]
    assert timeout[-1]["outcome"] == "no-response" and timeout[-1]["tries"] == 3


def test_verbose_replay_shows_the_bytes_sent_and_both_checksums():
    r = replay(CAPTURES / "udpcksum-offload4.pcap", "-v")
    lines = r.stdout.splitlines()
    assert lines[0] == f"replaying {CAPTURES / 'udpcksum-offload4.pcap'}"
    assert "try 1 of 3: 64 bytes sent" in lines
    assert "\t0x0000:  4500 0040 815c 0000 4011 6c29 c612 0001" in lines
    assert "checksum received 0x8d74, computed 0xcbb4" in lines


@pytest.mark.parametrize("args,needle", [
    (["-0"], "diverges at try 1: it sent 64 bytes from 198.18.0.1.40234 to 198.18.1.2.53 "
             "with checksum 0x3d12, this run sends 64 bytes from 198.18.0.1.40234 to "
             "198.18.1.2.53 with checksum 0x0000"),
    (["198.18.1.2", "54"], "to 198.18.1.2.54"),
    (["-q", "example.net"], "diverges at try 1"),
    (["198.18.1.3", "53"], "this run sends 64 bytes from 198.18.0.1.40234 to 198.18.1.3.53"),
    (["-l", "[2001:db8::1]:0"], "the recording is IPv4"),
])
def test_a_replay_with_other_options_says_where_it_diverges(args, needle):
    r = replay(CAPTURES / "udpcksum-on4.pcap", *args)
    assert r.returncode == 3 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and needle in r.stderr


def test_fewer_retries_than_recorded_diverge():
    r = replay(CAPTURES / "udpcksum-timeout4.pcap", "-w", "0.5", "-r", "0")
    assert r.returncode == 3  # ReplayDiverged
    assert "it holds 3 tries, this run made 1" in r.stderr.splitlines()[-1]


def test_a_recording_of_something_else_is_one_line(tmp_path):
    for pcap, needle in ((CAPTURES / "ping-v4-raw.pcap", "not a udpcksum recording"),
                         (CAPTURES / "udpcksum-on4.pcap.missing", "udpcksum-on4.pcap.missing")):
        r = replay(pcap)
        assert r.returncode == 2 and r.stdout == "" and needle in r.stderr
        assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"this is not a pcap at all")
    r = replay(bad)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1


# tcpdump -vv judges the same reply independently: "udp sum ok", "[no cksum]", or
# "[bad udp cksum FIELD -> EXPECTED!]". The fixture's text must say the same.
TCPDUMP_VERDICTS = {
    "udpcksum-on4": ("ok", "valid"),
    "udpcksum-on6": ("ok", "valid"),
    "udpcksum-ntp4": ("ok", "valid"),
    "udpcksum-off4": ("none", "the checksum field is 0 (not computed)"),
    "udpcksum-zero6": ("bad", "invalid in IPv6"),
    "udpcksum-offload4": ("bad", "unverifiable"),
}


@pytest.mark.parametrize("name", sorted(TCPDUMP_VERDICTS))
def test_the_recorded_verdict_is_tcpdumps(name):
    out = subprocess.run(["tcpdump", "-vv", "-n", "-r", str(CAPTURES / f"{name}.pcap"), "udp"],
                         capture_output=True, text=True, check=True).stdout
    reply = out.strip().splitlines()[-1]          # the server's answer comes last
    text = (CAPTURES / f"{name}.txt").read_text()
    kind, words = TCPDUMP_VERDICTS[name]
    assert words in text
    if kind == "ok":
        assert "udp sum ok" in reply and "UDP checksums on: 0x" in text
    elif kind == "none":
        assert "[no cksum]" in reply and "UDP checksums off" in text
    else:
        m = re.search(r"\[bad udp cksum (0x[0-9a-f]+) -> (0x[0-9a-f]+)!\]", reply)
        assert m, reply
        field = int(m.group(1), 16)
        assert f"0x{field:04x}" in text or field == 0, (m.group(0), text)
