"""icmpd --replay on the recorded fixtures, judged by what scripts/make_icmpd_captures.py did.

The script (see captures/README.md) ran a two-router lab with a 1280-byte
middle link: host 198.18.0.1 / 2001:db8::1, r1 198.18.0.2 / 2001:db8::2,
dst 198.18.2.2 / 2001:db8:0:2::2 (rawtools/testing/lab.py's addressing).
From ports 40001, 40002 (TTL 1), 40003 (1400 bytes, DF) and 40009 of the
host, in each family, it provoked a port unreachable from dst, a time
exceeded from r1, a fragmentation needed / packet too big of MTU 1280 from
r1, and a port unreachable no client registered. Those facts, typed here as
literals, are what each watch must receive.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import CAPTURES, rawtools_argv

RAW = CAPTURES / "icmpd-errors.pcap"
ETH = CAPTURES / "icmpd-errors-eth.pcap"

EXPECTED = {
    "198.18.0.1:40001": "ECONNREFUSED (Destination Port Unreachable) from 198.18.2.2 ttl 62 "
                        "for 198.18.0.1.40001 > 198.18.2.2.9",
    "198.18.0.1:40002": "EHOSTUNREACH (Time to live exceeded) from 198.18.0.2 ttl 64 "
                        "for 198.18.0.1.40002 > 198.18.2.2.33434",
    "198.18.0.1:40003": "EMSGSIZE (Frag needed and DF set (mtu = 1280)) from 198.18.0.2 ttl 64 "
                        "for 198.18.0.1.40003 > 198.18.2.2.9",
    "[2001:db8::1]:40001": "ECONNREFUSED (Destination unreachable: Port unreachable) from "
                           "2001:db8:0:2::2 ttl 62 for 2001:db8::1.40001 > 2001:db8:0:2::2.9",
    "[2001:db8::1]:40002": "EHOSTUNREACH (Time exceeded: Hop limit) from 2001:db8::2 ttl 64 "
                           "for 2001:db8::1.40002 > 2001:db8:0:2::2.33434",
    "[2001:db8::1]:40003": "EMSGSIZE (Packet too big: mtu=1280) from 2001:db8::2 ttl 64 "
                           "for 2001:db8::1.40003 > 2001:db8:0:2::2.9",
}


def replay(path, *watches: str, json_out: bool = False) -> subprocess.CompletedProcess:
    args = ["--replay", str(path), *(a for w in watches for a in ("--watch", w))]
    return subprocess.run(rawtools_argv("icmpd", *args, *(["--json"] if json_out else [])),
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("capture", [RAW, ETH], ids=["record", "tcpdump-ethernet"])
def test_every_watch_gets_its_own_error_and_the_stray_ones_are_unmatched(capture):
    r = replay(capture, *EXPECTED)
    assert (r.returncode, r.stderr) == (0, "")
    lines = r.stdout.splitlines()
    delivered = [ln for ln in lines if ln.startswith("watch ")]
    assert sorted(delivered) == sorted(f"watch {w}: {text}" for w, text in EXPECTED.items())
    unmatched = [ln for ln in lines if ln.startswith("unmatched: ")]
    assert unmatched == [
        "unmatched: Destination Port Unreachable from 198.18.2.2 for 198.18.0.1.40009 > "
        "198.18.2.2.9",
        "unmatched: Destination unreachable: Port unreachable from 2001:db8:0:2::2 for "
        "2001:db8::1.40009 > 2001:db8:0:2::2.9"]
    assert lines[-1].startswith("6 watches, 8 packets: 6 errors delivered, 2 unmatched, "
                                "0 malformed")


def test_a_wildcard_watch_takes_every_address_and_a_v6_watch_no_v4():
    r = replay(RAW, "0.0.0.0:40002", "[::]:40001")
    delivered = [ln for ln in r.stdout.splitlines() if ln.startswith("watch ")]
    assert len(delivered) == 2
    assert delivered[0].startswith("watch 0.0.0.0:40002: EHOSTUNREACH")
    assert delivered[0].endswith("for 198.18.0.1.40002 > 198.18.2.2.33434")
    assert delivered[1].startswith("watch [::]:40001: ECONNREFUSED")
    assert delivered[1].endswith("for 2001:db8::1.40001 > 2001:db8:0:2::2.9")
    assert ("unmatched: Destination Port Unreachable from 198.18.2.2 for 198.18.0.1.40001 > "
            "198.18.2.2.9") in r.stdout


def test_json_lines_of_a_replay():
    r = replay(RAW, "198.18.0.1:40003", json_out=True)
    recs = [json.loads(ln) for ln in r.stdout.splitlines()]
    (err,) = [x for x in recs if x["type"] == "error"]
    assert (err["errno"], err["mtu"], err["offender"], err["lport"], err["dport"]) == (
        "EMSGSIZE", 1280, "198.18.0.2", 40003, 9)
    assert [x["type"] for x in recs].count("unmatched") == 7
    assert recs[-1]["type"] == "summary" and recs[-1]["delivered"] == 1


def test_a_file_that_is_not_a_capture_is_one_line(tmp_path):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"not a pcap at all")
    r = replay(bad, "198.18.0.1:40001")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert r.stderr.startswith(f"rawtools icmpd: {bad}: not a readable capture file")
