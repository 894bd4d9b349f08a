#!/usr/bin/env python3
"""Record the trace replay fixtures in captures/ on fresh namespace labs.

Each fixture is a pcap written by `rawtools trace --record` plus what the live
run printed (`.txt`: the options on its first line, then the output, then
the exit code). tests/test_trace_replay.py replays each pcap with those
options and requires exactly that text, so regenerating a fixture
regenerates its expectation from a real run.

    sudo .venv/bin/python scripts/make_trace_captures.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from rawtools.testing.delayline import Impairment
from rawtools.testing.lab import Lab

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "captures"
# Let the routers' ICMP budget (6, refilling one a second) fill up between runs.
REST = 6.5


def record(lab: Lab, name: str, *args: str, unprivileged: bool = False) -> None:
    pcap = OUT / f"{name}.pcap"
    argv = [sys.executable, "-m", "rawtools", "trace", "--record", str(pcap), *args]
    if unprivileged:
        argv = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", *argv]
    r = lab.run("host", argv, timeout=120)
    (OUT / f"{name}.txt").write_text(f"args: {' '.join(args)}\n{r.stdout}exit {r.returncode}\n")
    print(f"{name}: exit {r.returncode}, {pcap.stat().st_size} bytes")
    time.sleep(REST)


def noisy(lab: Lab) -> None:
    """A UDP trace with duplicated, reordered and foreign ICMP errors mixed in.

    r1 duplicates every ICMP message it forwards to the host (nftables `dup`),
    the host keeps sending UDP to a closed port on its loopback (port
    unreachables nobody rate-limits, quoting someone else's datagrams), and
    the answers of parallel probes arrive out of TTL order by themselves.
    """
    lab.nft("r1", """
table ip rtlab_dup {
  chain post { type filter hook postrouting priority 0; policy accept;
    ip daddr 198.18.0.1 ip protocol icmp dup to 198.18.0.1 device "l0b"
  }
}
""")
    spam = subprocess.Popen(lab.exec_argv("host", [
        sys.executable, "-c",
        "import socket,time\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        "end=time.time()+4\n"
        "while time.time()<end:\n"
        "    s.sendto(b'x'*8,('127.0.0.1',9)); time.sleep(0.0002)\n"]))
    time.sleep(0.3)
    try:
        record(lab, "trace-udp4-noisy", "-n", lab.dst4)
    finally:
        spam.wait()
        lab.nft("r1", "delete table ip rtlab_dup\n")


def rate_limited(lab: Lab) -> None:
    """The third of three traces run back to back: the routers' burst of 6 errors
    is spent, so most probes go unanswered and hops are known from retries."""
    for _ in range(2):
        lab.run("host", [sys.executable, "-m", "rawtools", "trace", "-n", lab.dst4],
                timeout=120)
    record(lab, "trace-udp4-ratelimited", "-n", lab.dst4)


def lossy() -> None:
    """A 50 ms path (25 ms each way on the host's link, the lab's delay line) that
    loses a tenth of the frames each way, with no ICMP rate limits: every star is
    a loss on the wire."""
    with Lab(2, impair={0: Impairment(delay_ms=25, loss_pct=10, seed=4)}) as lab:
        for node in lab.nodes[1:]:
            lab.run(node, ["sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0",
                           "net.ipv6.icmp.ratelimit=0"], check=True)
        for _ in range(10):  # the neighbours resolved first, through the loss
            if lab.run("host", ["ping", "-n", "-c", "1", "-W", "2", lab.dst4]).returncode == 0:
                break
        record(lab, "trace-udp4-lossy", "-n", lab.dst4)


def main() -> int:
    OUT.mkdir(exist_ok=True)
    with Lab(8) as lab:
        record(lab, "trace-udp4", "-n", lab.dst4)
        record(lab, "trace-udp6", "-n", lab.dst6)
        record(lab, "trace-icmp4", "-n", "-I", lab.dst4)
        record(lab, "trace-icmp6", "-n", "-I", lab.dst6)
        record(lab, "trace-tcp4", "-n", "-T", lab.dst4)
        record(lab, "trace-tcp6", "-n", "-T", lab.dst6)
        record(lab, "trace-udp4-paris-dgram", "-n", "--paris", lab.dst4, unprivileged=True)
        record(lab, "trace-icmp6-dgram", "-n", "-I", lab.dst6, unprivileged=True)
        noisy(lab)
        rate_limited(lab)
        lab.firewall_dst("udp")
        record(lab, "trace-udp4-gap", "-n", lab.dst4)
        lab.nft("dst", "delete table inet rtlab_fw\n")
        lab.silence(4)
        record(lab, "trace-udp4-silent4", "-n", lab.dst4)
    lossy()
    with Lab(4) as lab:
        lab.unreachable_from_last("198.19.7.0/24", "2001:db8:77::/64", "unreachable")
        record(lab, "trace-udp4-unreach-h", "-n", "198.19.7.7")
        record(lab, "trace-icmp6-unreach-n", "-n", "-I", "2001:db8:77::7")
    return 0


if __name__ == "__main__":
    sys.exit(main())
