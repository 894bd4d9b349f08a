"""Lab tests: `rawtools sniff` on a real veth while real traffic crosses it."""

from __future__ import annotations

import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import rawtools_argv

from rawtools.io.pcapfile import read_packets

pytestmark = pytest.mark.lab

UDP_PORT = 7777
# A UDP echo server for dst and a client for host: three datagrams, three answers.
ECHO_SERVER = f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", {UDP_PORT}))
print("ready", flush=True)
for _ in range(3):
    data, peer = s.recvfrom(2048)
    s.sendto(data, peer)
"""
ECHO_CLIENT = f"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
for i in range(3):
    s.sendto(b"exchange %d" % i, (sys.argv[1], {UDP_PORT}))
    s.recvfrom(2048)
"""


def start_sniffer(lab, *args: str) -> subprocess.Popen:
    """Start sniff in the host namespace; return once it is listening."""
    proc = subprocess.Popen(lab.exec_argv("host", rawtools_argv("sniff", *args)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stderr.readline().decode()
    assert line.startswith("listening on"), line + proc.stderr.read().decode()
    return proc


def stop(proc: subprocess.Popen, sig: int = signal.SIGINT) -> tuple[str, str]:
    time.sleep(0.3)  # > the 50 ms ring timeout: everything sent has been delivered
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=20)
    return out.decode(), err.decode()


def traffic(lab) -> None:
    """Three pings and a three-datagram UDP exchange from host to dst."""
    server = subprocess.Popen(lab.exec_argv("dst", [sys.executable, "-c", ECHO_SERVER]),
                              stdout=subprocess.PIPE)
    assert server.stdout.readline() == b"ready\n"
    ping = lab.run("host", ["ping", "-n", "-c", "3", "-i", "0.2", lab.dst4])
    assert ping.returncode == 0, ping.stdout + ping.stderr
    client = lab.run("host", [sys.executable, "-c", ECHO_CLIENT, lab.dst4])
    assert client.returncode == 0, client.stderr
    server.wait(timeout=10)


def tcpdump_count(path) -> int:
    res = subprocess.run(["tcpdump", "--count", "-r", str(path)], capture_output=True,
                         text=True, check=True)
    assert "truncated" not in res.stderr
    return int(res.stdout.split()[0])


def stat_lines(err: str) -> dict[str, int]:
    out = {}
    for line in err.splitlines():
        for key in ("captured", "received by filter", "dropped by kernel"):
            if line.endswith((key, key.replace("packets", "packet"))):
                out[key] = int(line.split()[0])
    return out


@pytest.mark.parametrize("backend", ["pcap", "packet"])
def test_captures_exactly_the_ping_and_udp_exchange(make_lab, tmp_path, backend):
    lab = make_lab(1)
    out = tmp_path / "cap.pcap"
    proc = start_sniffer(lab, "-n", "-i", lab.host_if, "--backend", backend, "-w", str(out),
                         "icmp or udp")
    traffic(lab)
    _, err = stop(proc)
    assert proc.returncode == 0, err
    stats = stat_lines(err)
    assert stats["captured"] == 12 and stats["dropped by kernel"] == 0, err
    assert tcpdump_count(out) == 12
    _, recs = read_packets(str(out))
    frames = [d for _, d in recs]
    protos = [f[23] for f in frames]  # IPv4 protocol byte after a 14-byte Ethernet header
    assert protos.count(1) == 6 and protos.count(17) == 6
    udp = [f for f in frames if f[23] == 17]
    assert sum(b"exchange" in f for f in udp) == 6


def test_both_backends_see_the_same_packets(make_lab, tmp_path):
    lab = make_lab(1)
    files = {b: tmp_path / f"{b}.pcap" for b in ("pcap", "packet")}
    procs = [start_sniffer(lab, "-i", lab.host_if, "--backend", b, "-w", str(f), "icmp or udp")
             for b, f in files.items()]
    traffic(lab)
    for p in procs:
        stop(p)
    got = {b: [d for _, d in read_packets(str(f))[1]] for b, f in files.items()}
    assert len(got["pcap"]) == 12
    # Same bytes in the same order (an outgoing packet is stamped separately for
    # each socket that taps it, so timestamps may differ by a microsecond).
    assert got["pcap"] == got["packet"]


@pytest.mark.parametrize("direction,icmp_type", [("in", 0), ("out", 8)])
@pytest.mark.parametrize("backend", ["pcap", "packet"])
def test_direction_keeps_only_one_way(make_lab, tmp_path, direction, icmp_type, backend):
    lab = make_lab(1)
    out = tmp_path / "dir.pcap"
    proc = start_sniffer(lab, "-i", lab.host_if, "-Q", direction, "--backend", backend,
                         "-w", str(out), "icmp")
    lab.run("host", ["ping", "-n", "-c", "3", "-i", "0.2", lab.dst4])
    stop(proc)
    types = [d[34] for _, d in read_packets(str(out))[1]]
    assert types == [icmp_type] * 3


def test_immediate_mode_prints_and_stops_at_count(make_lab):
    lab = make_lab(1)
    proc = start_sniffer(lab, "-n", "-i", lab.host_if, "--immediate", "-c", "2", "icmp")
    lab.run("host", ["ping", "-n", "-c", "1", lab.dst4])
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    lines = out.decode().splitlines()
    assert len(lines) == 2 and "echo request" in lines[0] and "echo reply" in lines[1]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_signal_mid_capture_leaves_a_valid_file(make_lab, tmp_path, sig, fmt):
    lab = make_lab(1)
    out = tmp_path / f"kill.{fmt}"
    extra = ["--pcapng"] if fmt == "pcapng" else []
    proc = start_sniffer(lab, "-i", lab.host_if, "-w", str(out), *extra, "icmp")
    flood = subprocess.Popen(lab.exec_argv("host", ["ping", "-n", "-i", "0.002", "-s", "400",
                                                     lab.dst4]), stdout=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        proc.send_signal(sig)  # while packets are still arriving
        _, err = proc.communicate(timeout=20)
    finally:
        flood.terminate()
        flood.wait()
    assert proc.returncode == 0, err
    stats = stat_lines(err.decode())
    assert stats["captured"] > 50
    assert tcpdump_count(out) == stats["captured"]


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv")
def test_drops_to_the_named_user_before_writing(make_lab):
    lab = make_lab(1)
    # pytest's tmp_path is root-only; nobody needs a directory it can reach.
    where = Path(tempfile.mkdtemp(prefix="rawtools-sniff-"))
    try:
        where.chmod(0o777)
        out = where / "z.pcap"
        proc = start_sniffer(lab, "-i", lab.host_if, "-Z", "nobody", "-w", str(out), "icmp")
        lab.run("host", ["ping", "-n", "-c", "1", lab.dst4])
        stop(proc)
        assert out.stat().st_uid == pwd.getpwnam("nobody").pw_uid
        assert tcpdump_count(out) == 2
    finally:
        shutil.rmtree(where)


def test_written_file_unreachable_for_the_user_is_one_line(make_lab, tmp_path):
    lab = make_lab(1)
    proc = subprocess.run(lab.exec_argv("host", rawtools_argv(
        "sniff", "-i", lab.host_if, "-Z", "nobody", "-w", str(tmp_path / "x.pcap"))),
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().endswith("x.pcap: Permission denied")
