"""The pytest plugin as a user's project meets it: installed with rawtools, no conftest needed.

A throwaway project (pytester) holds only its own test file; the fixtures
come from the `pytest11` entry point of the installed package. Oracles: the
lab's addresses for what the recorded trace must show, the recording file
itself (written once, untouched by the replaying run), and pytest's own
outcome counts.
"""

from __future__ import annotations

import os
import re

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = '''
import subprocess, sys
import rawtools

def test_trace_through_two_routers(recording):
    def record(lab, path):
        subprocess.run(lab.exec_argv("host", [sys.executable, "-m", "rawtools", "trace", "-n",
                                              "-q", "1", "--record", path, lab.dst4]),
                       check=True, capture_output=True)
        print("RECORDED", lab.router4(1), lab.router4(2), lab.dst4)

    r = rawtools.trace(replay=recording("two-routers", record, routers=2), nqueries=1)
    print("HOPS", " ".join(h.addrs[0] for h in r.hops))
    assert r.reached and len(r.hops) == 3

def test_the_lab_fixture_is_there(make_lab):
    lab = make_lab(1)
    assert lab.run("host", ["ping", "-c", "1", "-W", "2", lab.dst4]).returncode == 0
'''


def words_after(tag: str, out: str) -> list[str]:
    """The words a user test printed after `tag` (pytest -s puts them after the file name)."""
    m = re.search(rf"{tag} ([^\n]*)", out)
    assert m, out
    return m.group(1).split()


def test_a_users_project_records_once_then_replays(pytester: pytest.Pytester) -> None:
    if os.geteuid() != 0:
        pytest.skip("the first run records against a lab: root and namespaces")
    pytester.makepyfile(test_user=USER_TESTS)
    first = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    first.assert_outcomes(passed=2)
    out = first.stdout.str()
    recorded = words_after("RECORDED", out)
    hops = words_after("HOPS", out)
    assert hops == recorded  # the replay shows the lab's routers and destination, in order
    pcap = pytester.path / "recordings" / "two-routers.pcap"
    stamp = pcap.stat().st_mtime_ns

    second = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider",
                                           "-k", "two_routers")
    second.assert_outcomes(passed=1)
    assert "RECORDED" not in second.stdout.str()  # replayed: no lab, no probe
    assert pcap.stat().st_mtime_ns == stamp
    assert words_after("HOPS", second.stdout.str()) == recorded


def test_the_plugin_is_registered_by_the_package(pytester: pytest.Pytester) -> None:
    """Nothing but the installed package provides the fixtures and the marker."""
    pytester.makepyfile(test_x="def test_x(): pass\n")
    r = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    assert "make_lab" in r.stdout.str() and "recording" in r.stdout.str()
    r = pytester.runpytest_subprocess("--markers", "-p", "no:cacheprovider")
    assert "@pytest.mark.lab" in r.stdout.str()
