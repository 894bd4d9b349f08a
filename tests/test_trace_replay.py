"""Replaying the recorded trace fixtures in captures/ reproduces each live report exactly.

No privileges and no network: the engine runs on the recording's clock, so
its retries, timeouts and the scout's distance estimate all fall the same way.
"""

import json
import shlex
import subprocess

import pytest
from conftest import CAPTURES, rawtools_argv

FIXTURES = sorted(CAPTURES.glob("trace-*.pcap"))


def replay(pcap, *args):
    return subprocess.run(rawtools_argv("trace", "--replay", str(pcap), *args),
                          capture_output=True, text=True, timeout=30)


def test_there_are_fixtures_for_each_method_and_family():
    names = {p.stem for p in FIXTURES}
    assert {f"trace-{m}{v}" for m in ("udp", "icmp", "tcp") for v in (4, 6)} <= names
    assert {"trace-udp4-noisy", "trace-udp4-silent4", "trace-udp4-unreach-h",
            "trace-icmp6-unreach-n"} <= names


@pytest.mark.parametrize("pcap", FIXTURES, ids=lambda p: p.stem)
def test_replay_reproduces_the_recorded_report(pcap):
    lines = pcap.with_suffix(".txt").read_text().splitlines(keepends=True)
    args = shlex.split(lines[0].removeprefix("args: "))
    expected_out, expected_rc = "".join(lines[1:-1]), int(lines[-1].split()[1])
    r = replay(pcap, *args)
    assert r.stderr == ""
    assert r.stdout == expected_out
    assert r.returncode == expected_rc


def test_noise_in_the_recording_is_counted_not_reported():
    r = replay(CAPTURES / "trace-udp4-noisy.pcap", "--json")
    objs = [json.loads(x) for x in r.stdout.splitlines()]
    summary = objs[-1]
    assert summary["type"] == "summary" and summary["mechanism"] == "replay"
    assert summary["duplicates"] > 0 and summary["unrelated"] > 0
    hops = [o for o in objs if o["type"] == "hop"]
    assert all(p["addr"] for h in hops for p in h["probes"])
    assert hops[-1]["probes"][0]["addr"] == summary["dst"]


def test_a_file_that_is_not_a_capture_is_one_line(tmp_path):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"this is not a pcap at all")
    r = replay(bad)
    assert r.returncode == 2 and r.stdout == "" and len(r.stderr.splitlines()) == 1
