#!/usr/bin/env python3
"""How many packets per second does the lab's delay line relay?

Builds host -> dst with the link between them impaired (a delay line spliced
in, 1 ms of delay by default), sends small UDP datagrams from host at each
given rate (after one ping, which resolves ARP), and reads the relay's own
counts when the lab comes down: how many frames it relayed (the datagrams
and the few frames of that ping and its ARP), and how many the kernel
dropped because the relay's ring was full (it fell behind). The destination drops the datagrams in
nftables, so no ICMP errors come back. Needs root; CPU is shared (the
sender, the relay and the kernel work of both veths all run on this
machine), so run it more than once before drawing conclusions.

    sudo .venv/bin/python scripts/bench/delayline.py [--rates 10000,50000] [--seconds 2]
"""

from __future__ import annotations

import argparse
import signal
import sys

from rawtools.testing.delayline import Impairment
from rawtools.testing.lab import Lab

PORT = 9
# Paced sender: a burst every half millisecond brings the count up to what the
# rate allows so far, so the average rate is exact even though a Python loop
# cannot space single packets 10 us apart.
SENDER = """
import socket, sys, time
dst, rate, seconds, port, size = (sys.argv[1], int(sys.argv[2]), float(sys.argv[3]),
                                  int(sys.argv[4]), int(sys.argv[5]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
payload = bytes(size)
sent, start = 0, time.monotonic()
total = int(rate * seconds)
while sent < total:
    due = min(total, int((time.monotonic() - start) * rate) + 1)
    while sent < due:
        s.sendto(payload, (dst, port))
        sent += 1
    time.sleep(0.0005)
print(sent, round(time.monotonic() - start, 3))
"""


def run_one(rate: int, seconds: float, delay_ms: float, size: int) -> None:
    with Lab(0, impair={0: Impairment(delay_ms=delay_ms)}) as lab:
        lab.firewall_dst("udp")  # no ICMP port-unreachable storm back to host
        # ARP first: while it crosses the delay line the host's neighbour queue
        # would drop most of the first delay's worth of datagrams.
        lab.run("host", ["ping", "-c", "1", "-W", "5", lab.dst4])
        res = lab.run("host", [sys.executable, "-c", SENDER, lab.dst4, str(rate),
                               str(seconds), str(PORT), str(size)], timeout=seconds * 10 + 30)
        sent, took = res.stdout.split() if res.returncode == 0 else ("?", "?")
    # host>dst is the first direction of the relay's line (`left>right`).
    forward = lab.relay_reports[0].split(";")[0]
    print(f"{size}-byte payloads, {rate:>7} packets/s offered: sent {sent:>7} in {took:>5} s"
          f"  {forward}")


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rates", default="10000,20000,50000,100000",
                    help="packets per second to offer, comma-separated")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--delay-ms", type=float, default=1.0)
    ap.add_argument("--size", type=int, default=18, help="UDP payload bytes")
    args = ap.parse_args()
    # A timeout's SIGTERM must still tear the lab down (Lab.__exit__).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    for rate in (int(r) for r in args.rates.split(",")):
        run_one(rate, args.seconds, args.delay_ms, args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
