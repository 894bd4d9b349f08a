"""The example scripts of scripts/examples/, each run as a user would, against a lab.

Oracles: the lab's own configuration (its live addresses, its routers, the
delay set on a link); tshark's reading of the same capture for the top
talkers; jq, which the shell example runs, for the JSON.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter

import pytest
from conftest import ROOT

from rawtools.testing.delayline import Impairment

pytestmark = pytest.mark.lab
EXAMPLES = ROOT / "scripts" / "examples"


def example(lab, name: str, *args: str, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    return lab.run("host", [sys.executable, str(EXAMPLES / name), *args], timeout=120,
                   env=env)


def test_sweep_report_lists_exactly_the_live_hosts(make_lab):
    live = ["198.18.9.1", "198.18.9.7", "198.18.9.20"]
    lab = make_lab(1, extra_dst4=live)
    r = example(lab, "sweep_report.py", "198.18.9.0/27", "--expect", ",".join(live))
    assert r.returncode == 0, r.stderr
    listed = [ln.split()[0] for ln in r.stdout.splitlines() if " ms" in ln]
    assert sorted(listed) == sorted(live)
    assert f"{len(live)} of 30 answered" in r.stdout
    r = example(lab, "sweep_report.py", "198.18.9.0/27", "--expect", "198.18.9.1,198.18.9.2")
    assert r.returncode == 1 and "MISSING 198.18.9.2" in r.stdout


def test_path_change_sees_a_router_fall_silent(make_lab, tmp_path):
    lab = make_lab(3)
    os.chmod(tmp_path, 0o777)
    base = str(tmp_path / "path.json")
    assert example(lab, "path_change.py", lab.dst4, "--baseline", base, "--save").returncode == 0
    same = example(lab, "path_change.py", lab.dst4, "--baseline", base)
    assert same.returncode == 0 and "unchanged: 4 hops" in same.stdout, same.stdout
    lab.silence(2)
    moved = example(lab, "path_change.py", lab.dst4, "--baseline", base)
    assert moved.returncode == 1
    assert moved.stdout.splitlines() == [f"hop 2: {lab.router4(2)} -> *"]


def test_top_talkers_agree_with_tshark():
    if shutil.which("tshark") is None:
        pytest.skip("tshark is the oracle (scripts/setup.sh installs it)")
    pcap = str(ROOT / "tests" / "corpus" / "dns_udp.pcap")
    r = subprocess.run([sys.executable, str(EXAMPLES / "top_talkers.py"), pcap, "-n", "50"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    talkers_part, names_part = r.stdout.split("queries  name\n")
    ours = {ln.split()[1]: int(ln.split()[0]) for ln in talkers_part.splitlines()[1:]}
    ours_names = {ln.split()[1]: int(ln.split()[0]) for ln in names_part.splitlines()}

    def tshark(*fields: str, where: str = "") -> list[list[str]]:
        out = subprocess.run(["tshark", "-n", "-r", pcap, *(["-Y", where] if where else []),
                              "-T", "fields", *(x for f in fields for x in ("-e", f))],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        return [ln.split("\t") for ln in out.splitlines() if ln.strip()]

    theirs: Counter[str] = Counter()
    for src, length in tshark("ip.src", "frame.len", where="ip"):
        theirs[src] += int(length)
    names = Counter(q + "." for (q,) in tshark("dns.qry.name", where="dns.flags.response == 0"))
    assert ours == dict(theirs)
    assert ours_names == dict(names)


def test_the_latency_check_holds_a_budget_and_fails_past_it(make_lab):
    lab = make_lab(1, impair={0: Impairment(delay_ms=5)})  # 10 ms round trips
    lab.run("host", ["ping", "-c", "1", "-W", "2", lab.dst4])  # neighbours resolved

    def check(max_ms: str) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, TARGET=lab.dst4, MAX_MS=max_ms)
        return lab.run("host", [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                str(EXAMPLES / "test_latency.py")], env=env, timeout=120)

    ok = check("30")
    assert ok.returncode == 0 and "1 passed" in ok.stdout, ok.stdout
    late = check("5")
    assert late.returncode == 1 and "1 failed" in late.stdout and "average" in late.stdout


def test_json_with_jq(make_lab):
    if shutil.which("jq") is None:
        pytest.skip("jq runs the example (scripts/setup.sh installs it)")
    lab = make_lab(2)
    env = dict(os.environ, RAWTOOLS=f"{sys.executable} -m rawtools")
    r = lab.run("host", ["bash", str(EXAMPLES / "json_jq.sh"), lab.dst4], env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert 0 < float(lines[0]) < 10  # the average RTT on the lab, in ms
    assert lines[1:] == [f"1 {lab.router4(1)}", f"2 {lab.router4(2)}", f"3 {lab.dst4}"]
