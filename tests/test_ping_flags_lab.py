"""The rest of ping's flags on the lab: flood, -D, -O, -p, -s, -q, -w, -I, privileges, API."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import rawtools_argv
from test_ping_lab import ping, replies


def test_flood_sends_as_fast_as_replies_come(lab3):
    r = ping(lab3, "-f", "-c", "200", lab3.dst4)
    assert r.returncode == 0
    assert "200 packets transmitted, 200 received, 0% packet loss" in r.stdout
    # iputils' display: one dot per probe, erased by each reply.
    assert r.stdout.count(".") >= 200 and "\b \b" in r.stdout
    elapsed = int(re.search(r"time (\d+)ms", r.stdout).group(1))
    assert elapsed < 200 * 10  # never paced slower than 100 per second


def test_timestamps_size_pattern_and_quiet(lab3):
    r = ping(lab3, "-c", "2", "-i", "0.2", "-D", "-s", "100", "-p", "ab12", lab3.dst4)
    assert r.stdout.startswith("PATTERN: 0xab12\n")
    assert f"PING {lab3.dst4} ({lab3.dst4}) 100(128) bytes of data." in r.stdout
    lines = [ln for ln in r.stdout.splitlines() if "bytes from" in ln]
    assert len(lines) == 2
    assert all(re.match(r"\[\d{10}\.\d{6}\] 108 bytes from ", ln) for ln in lines)
    q = ping(lab3, "-c", "2", "-i", "0.2", "-q", lab3.dst4)
    assert "bytes from" not in q.stdout and "2 received" in q.stdout


def test_report_outstanding_and_deadline(lab3):
    lab3.firewall_dst("icmp")
    r = ping(lab3, "-O", "-i", "0.2", "-w", "1", lab3.dst4)
    assert r.returncode == 1
    assert "no answer yet for icmp_seq=1" in r.stdout
    sent = int(re.search(r"(\d+) packets transmitted", r.stdout).group(1))
    assert 4 <= sent <= 6  # one probe every 0.2 s for a 1 s deadline


def test_count_and_deadline_together_exit_1_when_short(lab3):
    r = ping(lab3, "-c", "5", "-w", "1", "-i", "0.5", lab3.dst4)
    assert r.returncode == 1 and len(replies(r.stdout)) < 5


def test_source_address_and_ipv6_interface(lab3):
    r = ping(lab3, "-c", "1", "-I", lab3.host4, lab3.dst4)
    assert r.returncode == 0
    assert f"from {lab3.host4} : 56(84)" in r.stdout
    r6 = ping(lab3, "-c", "1", "-I", lab3.host_if, lab3.dst6)
    assert r6.returncode == 0 and len(replies(r6.stdout)) == 1


def test_sudo_run_drops_to_the_invoking_user_after_opening(lab3):
    # The recording is created after the drop, so it belongs to the sudo user;
    # pytest's own tmp_path is private to root, hence a world-writable dir.
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        env = dict(os.environ, SUDO_UID="65534", SUDO_GID="65534")
        pcap = Path(d) / "rec.pcap"
        r = lab3.run("host", rawtools_argv("ping", "-c", "1", "--socket", "raw", "--record",
                                           str(pcap), lab3.dst4), env=env)
        assert r.returncode == 0, r.stderr
        st = pcap.stat()
        assert (st.st_uid, st.st_gid) == (65534, 65534)


def test_python_api_returns_typed_results(lab3):
    code = (
        "import rawtools, json\n"
        f"r = rawtools.ping({lab3.dst4!r}, count=2, interval=0.2)\n"
        "t = r.targets[0]\n"
        "print(json.dumps([type(r).__name__, t.received, t.avg_ms > 0, t.clocks, r.mechanism]))\n"
        f"s = rawtools.ping(sweep='198.18.3.0/29', timeout=0.3, retries=0)\n"
        "print(json.dumps(s.alive))\n"
        f"e = rawtools.ping({lab3.dst4!r}, count=1, ttl=1)\n"
        "print(json.dumps([(x.src, x.text) for x in e.targets[0].errors_seen]))\n"
    )
    r = lab3.run("host", [sys.executable, "-c", code])
    assert r.returncode == 0, r.stderr
    first, alive, errors = (eval_json(x) for x in r.stdout.splitlines())
    assert first[:3] == ["PingResult", 2, True] and first[3] == {"kernel": 2}
    assert alive == ["198.18.3.1", "198.18.3.2"]
    assert errors == [[lab3.router4(1), "Time to live exceeded"]]


def eval_json(text: str):
    import json
    return json.loads(text)


def test_ctrl_c_prints_the_summary(lab3):
    proc = subprocess.Popen(lab3.exec_argv("host", rawtools_argv("ping", "-i", "0.2",
                                                                 lab3.dst4)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    import time
    time.sleep(1.1)
    proc.send_signal(2)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "--- 198.18.3.2 ping statistics ---" in out and "Traceback" not in err
