"""Lab tests: `rawtools.sniff()` ends on a timer or a stop, counts, and writes as it goes.

Each capture runs in a Python process inside the lab's host namespace and
prints what it saw as JSON. The independent counts are iputils ping's (each
echo request it sent and each reply it got crossed the host's interface
once) and tcpdump reading the written file.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import pytest
from conftest import rawtools_argv

pytestmark = pytest.mark.lab

# Wall time of a capture from the call to the end of the loop, with its counts.
TIMED = """
import json, sys, threading, time, rawtools
import rawtools.tools.sniff.decode  # imported by the first next(): not the capture's time
iface, backend, how, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
t0 = time.monotonic()
if how == "timeout":
    kw = {"timeout": seconds}
elif how == "event":
    ev = threading.Event()
    threading.Timer(seconds, ev.set).start()
    kw = {"stop": ev}
else:
    kw = {"stop": lambda: time.monotonic() - t0 >= seconds}
cap = rawtools.sniff(iface, "icmp", backend=backend, **kw)
n = sum(1 for _ in cap)
s = cap.stats
print(json.dumps({"took": time.monotonic() - t0, "packets": n,
                  "stats": [s.received, s.dropped, s.ifdropped]}))
"""

# A capture that writes a file and says, once the handle is open, that it is
# ready (the stop condition is first asked right after the capture opens);
# it stops when the file named by argv[4] exists, and prints each packet.
WRITING = """
import json, os, sys, rawtools
iface, backend, out, flag = sys.argv[1:5]
said = []
def stop():
    if not said:
        said.append(print("ready", flush=True))
    return os.path.exists(flag)
cap = rawtools.sniff(iface, "icmp", backend=backend, stop=stop, write=out)
for pkt in cap:
    print("packet", pkt.summary, flush=True)
s = cap.stats
print(json.dumps({"captured": cap.captured, "received": s.received, "dropped": s.dropped,
                  "ifdropped": s.ifdropped}), flush=True)
"""


def iputils_ping(lab, count: int) -> int:
    """Packets iputils ping says it sent and received: each crossed host's link once."""
    r = lab.run("host", ["ping", "-n", "-c", str(count), "-i", "0.2", lab.dst4], timeout=30)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    assert m, r.stdout + r.stderr
    return int(m.group(1)) + int(m.group(2))


def tcpdump_count(path) -> int:
    res = subprocess.run(["tcpdump", "--count", "-r", str(path)], capture_output=True,
                         text=True, check=True)
    assert "truncated" not in res.stderr, res.stderr
    return int(res.stdout.split()[0])


def timed(lab, backend: str, how: str, seconds: float) -> dict:
    r = lab.run("host", [sys.executable, "-c", TIMED, lab.host_if, backend, how, str(seconds)],
                timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def start_writer(lab, backend: str, out, flag) -> subprocess.Popen:
    proc = subprocess.Popen(lab.exec_argv("host", [sys.executable, "-c", WRITING, lab.host_if,
                                                   backend, str(out), str(flag)]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line == "ready\n", line + proc.stderr.read()
    return proc


@pytest.mark.parametrize("backend", ["pcap", "packet"])
@pytest.mark.parametrize("how", ["timeout", "event", "callable"])
def test_an_idle_live_capture_ends_on_time(make_lab, backend, how):
    lab = make_lab(1)
    got = timed(lab, backend, how, 1.0)
    # Nothing crosses the link, so only the timer can end the loop: at 1 s
    # (an Event or a callable is asked every 0.1 s), never much later.
    assert got["packets"] == 0
    assert 1.0 <= got["took"] <= 1.5, got
    assert got["stats"] == [0, 0, 0]


@pytest.mark.parametrize("backend", ["pcap", "packet"])
def test_stats_and_written_file_match_what_iputils_sent(make_lab, tmp_path, backend):
    lab = make_lab(1)
    out, flag = tmp_path / "api.pcap", tmp_path / "stop"
    proc = start_writer(lab, backend, out, flag)
    try:
        sent = iputils_ping(lab, 5)
        time.sleep(0.3)  # > the 50 ms ring timeout: every packet has been handed over
        flag.touch()
        stdout, stderr = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    lines = stdout.splitlines()
    summary = json.loads(lines[-1])
    yielded = [ln for ln in lines if ln.startswith("packet ")]
    assert sent == 10
    assert len(yielded) == summary["captured"] == sent
    assert sum("echo request" in ln for ln in yielded) == 5
    assert (summary["received"], summary["dropped"], summary["ifdropped"]) == (sent, 0, 0)
    assert tcpdump_count(out) == len(yielded)


def test_the_written_file_is_whole_when_the_script_is_killed(make_lab, tmp_path):
    lab = make_lab(1)
    out = tmp_path / "killed.pcap"
    proc = start_writer(lab, "pcap", out, tmp_path / "never")
    try:
        sent = iputils_ping(lab, 3)
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)  # no cleanup runs: only what was flushed remains
        stdout, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    yielded = [ln for ln in stdout.splitlines() if ln.startswith("packet ")]
    assert len(yielded) == sent == 6
    assert tcpdump_count(out) == sent


def test_cli_timeout_ends_an_idle_capture_with_its_report(make_lab, tmp_path):
    lab = make_lab(1)
    out = tmp_path / "cli.pcap"
    t0 = time.monotonic()
    r = lab.run("host", rawtools_argv("sniff", "-i", lab.host_if, "--timeout", "1", "-w",
                                      str(out), "icmp"), timeout=30)
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert "0 packets captured" in r.stderr
    assert 1.0 <= took <= 2.5  # an interpreter start, then one second of capture
    assert tcpdump_count(out) == 0
