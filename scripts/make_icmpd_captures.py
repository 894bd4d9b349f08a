#!/usr/bin/env python3
"""Record the icmpd replay fixtures in captures/ on a fresh namespace lab.

A two-router lab (host -> r1 -> r2 -> dst) whose middle link (r1 - r2) has
an MTU of 1280, with no ICMP rate limit anywhere. `rawtools icmpd --record
captures/icmpd-errors.pcap` runs in the host while tcpdump writes the same
errors from the host's Ethernet side to captures/icmpd-errors-eth.pcap,
and UDP sockets bound to fixed ports provoke, for IPv4 and IPv6:

    port 40001 -> dst port 9, nothing listens:      port unreachable from dst
    port 40002 -> dst port 33434 with TTL 1:        time exceeded from r1
    port 40003 -> dst port 9, 1400 bytes, DF:       fragmentation needed /
                                                    packet too big (1280) from r1
    port 40009 -> dst port 9, not registered:       port unreachable nobody asked for

The sockets on 40001-40003 are registered with the daemon (whose log is
printed), 40009 is not. tests/test_icmpd_replay.py knows these ports and
the lab's documented addresses as literals.

    sudo .venv/bin/python scripts/make_icmpd_captures.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rawtools.testing.lab import Lab

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "captures"
NO_LIMITS = ["net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0"]

# Runs inside the host's namespace: bind, register, provoke, wait for every error.
CLIENT = r'''
import array, socket, sys, time
from rawtools.wire import icmpdmsg as m
path, dst4, dst6 = sys.argv[1:4]
c = socket.socket(socket.AF_UNIX)
c.connect(path)
c.settimeout(5)

def read():
    h = c.recv(8, socket.MSG_WAITALL)
    kind, n = m.parse_header(h)
    return kind, c.recv(n, socket.MSG_WAITALL) if n else b""

def udp(fam, addr, port, register):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((addr, port))
    if register:
        c.sendmsg([m.register(port + (60000 if fam == socket.AF_INET6 else 0))],
                  [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [s.fileno()]))])
        kind, body = read()
        assert kind == m.REGISTERED and m.unpack_registered(body).status == 0
    return s

for fam, us, dst, ttl_opt, ttl_level, df in (
        (socket.AF_INET, "198.18.0.1", dst4, socket.IP_TTL, socket.IPPROTO_IP, (0, 10, 2)),
        (socket.AF_INET6, "2001:db8::1", dst6, socket.IPV6_UNICAST_HOPS, socket.IPPROTO_IPV6,
         (41, 23, 2))):
    refused, ttl, big, stray = (udp(fam, us, p, p != 40009) for p in (40001, 40002, 40003, 40009))
    refused.sendto(b"port unreachable, please", (dst, 9))
    ttl.setsockopt(ttl_level, ttl_opt, 1)
    ttl.sendto(b"time exceeded, please", (dst, 33434))
    big.setsockopt(df[0], df[1], df[2])
    big.sendto(bytes(1400 - (28 if fam == socket.AF_INET else 48)), (dst, 9))
    stray.sendto(b"nobody registered me", (dst, 9))
    for _ in range(3):
        kind, body = read()
        e = m.unpack_error(body)
        print(e.version, e.lport, e.errno_name, e.offender, e.mtu, flush=True)
    time.sleep(0.2)
'''


def main() -> int:
    OUT.mkdir(exist_ok=True)
    with Lab(2, mtu={1: 1280}) as lab, tempfile.TemporaryDirectory() as tmp:
        for node in ("r1", "r2", "dst"):
            lab.run(node, ["sysctl", "-q", "-w", *NO_LIMITS], check=True)
        sock = f"{tmp}/icmpd.sock"
        eth = OUT / "icmpd-errors-eth.pcap"
        dump = subprocess.Popen(lab.exec_argv("host", [
            "tcpdump", "-i", lab.host_if, "-n", "-U", "--immediate-mode", "-Z", "root", "-w",
            str(eth), "icmp or (icmp6 and ip6[40] < 128)"]), stderr=subprocess.PIPE, text=True)
        assert dump.stderr is not None and "listening on" in dump.stderr.readline()
        daemon = subprocess.Popen(lab.exec_argv("host", [
            sys.executable, "-m", "rawtools", "icmpd", "--socket", sock, "-v", "--record",
            str(OUT / "icmpd-errors.pcap")]), stderr=subprocess.PIPE, text=True)
        try:
            assert daemon.stderr is not None
            print(daemon.stderr.readline(), end="")
            r = lab.run("host", [sys.executable, "-c", CLIENT, sock, lab.dst4, lab.dst6],
                        timeout=60)
            print(r.stdout, r.stderr, end="")
            if r.returncode:
                raise RuntimeError("the client failed")
            time.sleep(0.3)
        finally:
            daemon.terminate()
            print(daemon.communicate(timeout=10)[1], end="")
            dump.terminate()
            dump.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
