"""A result's `to_dict()` / `to_json()` is exactly the summary line `--json` prints.

The command line is the reference: each recording in captures/ is replayed
by `rawtools TOOL --json --replay` with the options it was made with, and by
the Python API with the same options by name; the last line the command
printed must be the API result's `to_json()`, character for character.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from clirun import run_cli
from conftest import CAPTURES

import rawtools
from rawtools.tools.trace.hops import Counters
from rawtools.tools.trace.report import TraceResult

# (tool, fixture, CLI arguments, API call with the same options)
CASES: list[tuple[str, str, list[str], Any]] = [
    ("ping", "ping-v4-raw", ["-c", "4", "-i", "0.2", "--socket", "raw", "198.18.3.2"],
     lambda f: rawtools.ping("198.18.3.2", count=4, interval=0.2, mechanism="raw", replay=f)),
    ("ping", "ping-v4-dup", ["-c", "3", "-i", "0.2", "--socket", "raw", "198.18.3.2"],
     lambda f: rawtools.ping("198.18.3.2", count=3, interval=0.2, mechanism="raw", replay=f)),
    ("ping", "ping-sweep-v4", ["-g", "198.18.9.0/28", "-W", "0.3", "--retries", "1",
                               "--socket", "raw"],
     lambda f: rawtools.ping(sweep="198.18.9.0/28", timeout=0.3, retries=1, mechanism="raw",
                             replay=f)),
    ("trace", "trace-udp4", ["-n", "198.18.8.2"],
     lambda f: rawtools.trace("198.18.8.2", replay=f)),
    ("trace", "trace-icmp4", ["-n", "-I", "198.18.8.2"],
     lambda f: rawtools.trace("198.18.8.2", method="icmp", replay=f)),
    ("trace", "trace-udp4-gap", ["-n", "198.18.8.2"],
     lambda f: rawtools.trace("198.18.8.2", replay=f)),
    ("udpcksum", "udpcksum-on4", ["198.18.1.2", "domain"],
     lambda f: rawtools.udpcksum("198.18.1.2", "domain", replay=f)),
    ("udpcksum", "udpcksum-noserver4", ["198.18.1.2", "55"],
     lambda f: rawtools.udpcksum("198.18.1.2", 55, replay=f)),
]


@pytest.mark.parametrize("tool,fixture,args,call", CASES, ids=[c[1] for c in CASES])
def test_to_json_is_the_summary_line_the_cli_prints(tool, fixture, args, call):
    pcap = str(CAPTURES / f"{fixture}.pcap")
    r = run_cli(tool, "--json", "--replay", pcap, *args)
    assert r.returncode in (0, 1), r.stderr
    printed = r.stdout.splitlines()[-1]
    result = call(pcap)
    assert result.to_json() == printed
    assert result.to_dict() == json.loads(printed)
    assert result.to_dict()["type"] == "summary" and result.to_dict()["tool"] == tool


def _trace_result(rounds: int) -> TraceResult:
    return TraceResult("h", "198.18.8.2", "udp", 4, False, "replay", False, [],
                       [[] for _ in range(rounds)], Counters())


def test_a_trace_of_several_rounds_carries_the_report_figures_as_the_cli_does():
    # The CLI adds mtr's figures with -c N (N > 1) or --report; one round has none.
    assert "stats" not in _trace_result(1).to_dict()
    assert _trace_result(3).to_dict()["stats"] == []
    assert "stats" in _trace_result(1).to_dict(report=True)
    assert json.loads(_trace_result(2).to_json(report=False)).get("stats") is None
