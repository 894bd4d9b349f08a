"""`rawtools udpcli`: bad input in one line, then real ICMP errors from a lab's kernels.

host -> r1 -> dst: nothing listens on port 9 of dst, so its kernel answers
a port unreachable; `rawtools.testing.udpserver` echoes on port 7777; r1
answers time exceeded for --ttl 1 and, with link 1 narrowed to 1280 bytes,
fragmentation needed for a larger datagram sent with --df. The expected
lines are spelled out here from UNP's format and the addresses the lab
assigns, not from the code under test.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import rawtools_argv

from rawtools.testing.lab import Lab

H = "198.18.1.2"


@pytest.mark.parametrize("args,needle", [
    ([H, "0"], "invalid port: '0'"),
    ([H, "65536"], "invalid port: '65536'"),
    ([H, "no-such-service-here"], "no-such-service-here: unknown service"),
    (["-t", "nan", H, "9"], "invalid timeout (-t): 'nan'"),
    (["-t", "inf", H, "9"], "invalid timeout (-t): 'inf'"),
    (["-t=-1", H, "9"], "invalid timeout (-t): '-1'"),
    (["-t", "0", H, "9"], "invalid timeout (-t): '0'"),
    (["-t", "1e300", H, "9"], "at most 2147483 seconds"),
    (["-t", "soon", H, "9"], "argument -t"),
    (["--ttl", "0", H, "9"], "invalid --ttl: '0'"),
    (["--ttl", "256", H, "9"], "invalid --ttl: '256'"),
    (["--ttl", "x", H, "9"], "argument --ttl"),
    (["-l", "198.18.0.1:70000", H, "9"], "-l 198.18.0.1:70000: the port must be 0-65535"),
    (["-l", "somewhere", H, "9"], "'somewhere' is not a numeric address"),
    (["-l", "", H, "9"], "-l ''"),
    (["-4", "-l", "[2001:db8::1]:53", H, "9"], "not an IPv4 address"),
    (["-6", H, "9"], f"{H}: not an IPv6 address"),
    (["--errqueue", "--icmpd", "/x", H, "9"], "not allowed with"),
    ([H], "the following arguments are required: PORT"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle):
    r = subprocess.run(rawtools_argv("udpcli", *args), input="hello\n", capture_output=True,
                       text=True, timeout=30)
    assert (r.returncode, r.stdout) == (2, "")
    assert len(r.stderr.splitlines()) == 1 and needle in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_no_daemon_is_one_line_before_anything_is_sent(tmp_path):
    path = tmp_path / "icmpd.sock"
    r = subprocess.run(rawtools_argv("udpcli", "--icmpd", str(path), H, "9"), input="hello\n",
                       capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == (f"rawtools udpcli: no icmpd answers on {path}: start it with "
                        "sudo rawtools icmpd\n")


def test_ctrl_c_exits_130():
    # Nothing is sent: the client waits for its first line when the signal comes.
    p = subprocess.Popen(rawtools_argv("udpcli", "--errqueue", H, "9"), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert (p.returncode, out, err) == (130, "", "")


def udpcli(lab: Lab, *args: str, stdin: str = "hello\n") -> subprocess.CompletedProcess[str]:
    return subprocess.run(lab.exec_argv("host", rawtools_argv("udpcli", *args)), input=stdin,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.lab
def test_errqueue_port_unreachable_in_unps_words(make_lab):
    lab = make_lab(1)
    r = udpcli(lab, "--errqueue", lab.dst4, "9", stdin="hello\nagain\n")
    line = "ICMP error: dest = 198.18.1.2:9, Connection refused, type = 3, code = 3\n"
    assert (r.returncode, r.stdout, r.stderr) == (0, line * 2, "")
    r = udpcli(lab, "--errqueue", "-v", lab.dst6, "9")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == ("ICMP error: dest = [2001:db8:0:1::2]:9, Connection refused, "
                        "type = 1, code = 4\n  from 2001:db8:0:1::2, ttl 63\n")


@pytest.mark.lab
def test_errqueue_echo_server_reply_and_timeout(make_lab):
    lab = make_lab(1)
    server = subprocess.Popen(lab.exec_argv("dst", [sys.executable, "-m",
                                                    "rawtools.testing.udpserver", "--port",
                                                    "7777"]),
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline() == "ready\n"
        r = udpcli(lab, "--errqueue", "-l", f"{lab.host4}:5353", lab.dst4, "7777",
                   stdin="hello\nworld")
        assert (r.returncode, r.stderr) == (0, "")
        assert r.stdout == "rawtools echo: hello\nrawtools echo: world"
        assert server.stdout.readline().startswith(f"{lab.host4}.5353 6 ")
    finally:
        server.kill()
        server.wait()
    lab.firewall_dst("udp")
    start = time.monotonic()
    r = udpcli(lab, "--errqueue", "-t", "0.5", lab.dst4, "7777")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "socket timeout\n")
    assert time.monotonic() - start >= 0.5


@pytest.mark.lab
def test_ttl_draws_time_exceeded_from_the_router(make_lab):
    lab = make_lab(1)
    r = udpcli(lab, "--errqueue", "-v", "--ttl", "1", lab.dst4, "9")
    assert (r.returncode, r.stderr) == (0, "")
    # r1 sends from its address towards the host, one hop away: TTL 64 arrives whole.
    assert r.stdout == ("ICMP error: dest = 198.18.1.2:9, No route to host, type = 11, "
                        "code = 0\n  from 198.18.0.2, ttl 64\n")


@pytest.mark.lab
def test_df_draws_fragmentation_needed_each_time_and_oversize_fails_locally(make_lab):
    lab = make_lab(1, mtu={1: 1280})
    big = "x" * 1299 + "\n"  # 20 + 8 + 1300 = 1328 bytes: over 1280
    huge = "y" * 1999 + "\n"  # over the host's own 1500
    r = udpcli(lab, "--errqueue", "-v", "--df", lab.dst4, "9", stdin=big + big + huge + "hi\n")
    needfrag = ("ICMP error: dest = 198.18.1.2:9, Message too long, type = 3, code = 4\n"
                "  from 198.18.0.2, ttl 64, mtu 1280\n")
    refused = ("ICMP error: dest = 198.18.1.2:9, Connection refused, type = 3, code = 3\n"
               "  from 198.18.1.2, ttl 63\n")
    assert (r.returncode, r.stderr) == (0, "sendto: Message too long\n")
    assert r.stdout == needfrag * 2 + refused


@pytest.mark.lab
def test_unresolvable_host_inside_the_lab(make_lab):
    lab = make_lab(0)
    r = udpcli(lab, "--errqueue", "no-such-host.invalid", "9")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr.startswith("rawtools udpcli: no-such-host.invalid: ")
    assert len(r.stderr.splitlines()) == 1


@pytest.mark.lab
def test_end_to_end_with_the_daemon(make_lab, tmp_path):
    lab = make_lab(1)
    path = tmp_path / "icmpd.sock"
    daemon = subprocess.Popen(lab.exec_argv("host", rawtools_argv("icmpd", "--socket",
                                                                  str(path))),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not Path(path).exists() and daemon.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.exists(), daemon.stderr.read() if daemon.poll() is not None else "no socket"
        r = udpcli(lab, "--icmpd", str(path), "-v", lab.dst4, "9")
    finally:
        daemon.terminate()
        daemon.wait(10)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == ("ICMP error: dest = 198.18.1.2:9, Connection refused, type = 3, "
                        "code = 3\n  from 198.18.1.2, ttl 63\n")
