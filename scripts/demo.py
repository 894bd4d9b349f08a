#!/usr/bin/env python3
"""A short tour of rawtools on a namespace lab: build it, run the tools, tear down.

    host -> r1 -> r2 -> r3 -> dst     (198.18.0.0/15, 2001:db8::/32; r2 -> r3 1280 bytes)

Every command is printed before its output, exactly as you could type it
inside the lab's host namespace (`ip netns exec PREFIX-host ...`).
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rawtools.testing.lab import Lab


def has_tool(name: str) -> bool:
    return importlib.util.find_spec(f"rawtools.tools.{name}.cli") is not None


def show(lab: Lab, *args: str, node: str = "host", timeout: float = 60) -> None:
    print(f"\n[{node}]$ rawtools {shlex.join(args)}", flush=True)
    argv = lab.exec_argv(node, [sys.executable, "-m", "rawtools", *args])
    subprocess.run(argv, timeout=timeout, check=False)


def background(lab: Lab, node: str, *args: str) -> subprocess.Popen[bytes]:
    """A rawtools command left running while the next one runs (its output interleaves)."""
    print(f"\n[{node}]$ rawtools {shlex.join(args)} &", flush=True)
    return subprocess.Popen(lab.exec_argv(node, [sys.executable, "-m", "rawtools", *args]))


def finish(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait()


@contextmanager
def udp_servers(lab: Lab) -> Iterator[None]:
    """UDP servers on dst: port 53 with checksums, 54 without (SO_NO_CHECK)."""
    procs = [subprocess.Popen(lab.exec_argv("dst", [
        sys.executable, "-m", "rawtools.testing.udpserver", "--port", port, *extra]),
        stdout=subprocess.PIPE) for port, extra in (("53", []), ("54", ["--no-check"]))]
    try:
        for proc in procs:
            assert proc.stdout is not None
            proc.stdout.readline()  # "ready"
        yield
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()


def capture_then_inject(lab: Lab, work: str) -> None:
    """sniff -w a ping, read the file back, then inject it while r1 watches the link."""
    saved = os.path.join(work, "ping.pcap")
    sniffer = background(lab, "host", "sniff", "-i", lab.host_if, "-c", "4", "--immediate",
                         "-w", saved, "icmp", "and", "host", lab.dst4)
    time.sleep(1.0)
    lab.run("host", [sys.executable, "-m", "rawtools", "ping", "-c", "2", "-i", "0.2",
                     lab.dst4])
    finish(sniffer)
    show(lab, "sniff", "-n", "-r", saved)
    watcher = background(lab, "r1", "sniff", "-n", "-i", lab.ifname(0, "right"), "-c", "4",
                         "--immediate", "icmp", "and", "host", lab.dst4)
    time.sleep(1.0)
    print("\n(r1 sees the 4 frames sent again, at their recorded pace, and dst answering the "
          "requests anew)", flush=True)
    show(lab, "inject", "-i", lab.host_if, saved)
    finish(watcher)


def icmpd_and_udpcli(lab: Lab, work: str) -> None:
    """icmpd in the host namespace, and udpcli learning its errors through it."""
    path = os.path.join(work, "icmpd.sock")
    daemon = background(lab, "host", "icmpd", "--socket", path)
    deadline = time.monotonic() + 10
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    hello = ("echo hello", "hello\n")
    big = ("head -c 1400 /dev/zero", "\0" * 1400)  # too big for the 1280-byte link r2 -> r3
    for args, (shown, text) in ((["-v", lab.dst4, "9"], hello),
                                (["-v", "--ttl", "2", lab.dst6, "9"], hello),
                                (["-v", "--df", lab.dst4, "9"], big)):
        print(f"\n[host]$ {shown} | rawtools udpcli --icmpd {path} {shlex.join(args)}",
              flush=True)
        subprocess.run(lab.exec_argv("host", [sys.executable, "-m", "rawtools", "udpcli",
                                              "--icmpd", path, *args]),
                       input=text.encode(), timeout=30, check=False)
    daemon.send_signal(signal.SIGTERM)
    finish(daemon)


def main() -> int:
    with Lab(3, extra_dst4=["198.18.9.3", "198.18.9.9"], mtu={2: 1280}) as lab:
        print(f"lab {lab.prefix}: host {lab.host4} -> r1 -> r2 -> r3 -> dst {lab.dst4} "
              f"/ {lab.dst6}")
        show(lab, "ifaces", lab.host_if)
        show(lab, "ping", "-c", "3", "-i", "0.2", lab.dst4)
        show(lab, "ping", "-c", "3", "-i", "0.2", lab.dst6)
        show(lab, "ping", "-c", "2", "-i", "0.2", "-t", "2", lab.dst4)
        show(lab, "ping", "-g", "198.18.9.0/28")
        show(lab, "ping", "-c", "2", "-i", "0.2", "198.18.9.3", "198.18.9.9", "198.18.9.10")
        if has_tool("trace"):
            show(lab, "trace", "-n", lab.dst4)
            show(lab, "trace", "-n", "-I", lab.dst6)
        with udp_servers(lab):
            show(lab, "udpcksum", lab.dst4, "domain")
            show(lab, "udpcksum", lab.dst4, "54")
            show(lab, "udpcksum", "-w", "1", "-r", "0", lab.dst4, "55")
        work = tempfile.mkdtemp(prefix="rawtools-demo-")
        os.chmod(work, 0o777)  # the tools write as the invoking user once privileges drop
        try:
            capture_then_inject(lab, work)
            icmpd_and_udpcli(lab, work)
        finally:
            subprocess.run(["rm", "-rf", work], check=False)
    print("\nlab torn down.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
