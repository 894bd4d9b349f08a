"""Replaying the recorded fixtures in captures/ reproduces each live report exactly.

No privileges and no network: the engine runs on the recording's clock.
"""

import shlex
import subprocess

import pytest
from conftest import CAPTURES, rawtools_argv

FIXTURES = sorted(CAPTURES.glob("ping-*.pcap"))


def test_there_are_fixtures_for_both_families_and_errors():
    names = {p.stem for p in FIXTURES}
    assert {"ping-v4-raw", "ping-v6-dgram", "ping-v4-ttl-errqueue", "ping-sweep-v4"} <= names


@pytest.mark.parametrize("pcap", FIXTURES, ids=lambda p: p.stem)
def test_replay_reproduces_the_recorded_report(pcap):
    lines = pcap.with_suffix(".txt").read_text().splitlines(keepends=True)
    args = shlex.split(lines[0].removeprefix("args: "))
    args = [a for a in args if a not in ("raw", "dgram", "--socket")]
    expected_out, expected_rc = "".join(lines[1:-1]), int(lines[-1].split()[1])
    r = subprocess.run(rawtools_argv("ping", "--replay", str(pcap), *args),
                       capture_output=True, text=True, timeout=30)
    assert r.stderr == ""
    assert r.stdout == expected_out
    assert r.returncode == expected_rc


def test_replay_with_other_options_is_refused_clearly():
    pcap = CAPTURES / "ping-sweep-v4.pcap"
    r = subprocess.run(rawtools_argv("ping", "--replay", str(pcap), "-g", "198.18.9.16/28"),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 3 and "diverges" in r.stderr


def test_replayed_rtts_are_timed_by_the_pcap_clock():
    import json
    pcap = CAPTURES / "ping-v4-raw.pcap"
    r = subprocess.run(rawtools_argv("ping", "--replay", str(pcap), "--json"),
                       capture_output=True, text=True, timeout=30)
    objs = [json.loads(x) for x in r.stdout.splitlines()]
    assert objs[-1]["mechanism"] == "replay"
    assert all(o["clock"] == "pcap" for o in objs if o["type"] == "reply")
