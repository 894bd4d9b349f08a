#!/usr/bin/env python3
"""A short tour of rawtools on a namespace lab: build it, run the tools, tear down.

    host -> r1 -> r2 -> r3 -> dst     (198.18.0.0/15, 2001:db8::/32)

Every command is printed before its output, exactly as you could type it
inside the lab's host namespace (`ip netns exec PREFIX-host ...`).
"""

from __future__ import annotations

import importlib.util
import shlex
import subprocess
import sys
import time

from rawtools.testing.lab import Lab


def has_tool(name: str) -> bool:
    return importlib.util.find_spec(f"rawtools.tools.{name}.cli") is not None


def show(lab: Lab, *args: str, node: str = "host", timeout: float = 60) -> None:
    print(f"\n[{node}]$ rawtools {shlex.join(args)}", flush=True)
    argv = lab.exec_argv(node, [sys.executable, "-m", "rawtools", *args])
    subprocess.run(argv, timeout=timeout, check=False)


def main() -> int:
    with Lab(3, extra_dst4=["198.18.9.3", "198.18.9.9"]) as lab:
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
        if has_tool("sniff"):
            print(f"\n[host]$ rawtools sniff -n -i {lab.host_if} -c 4 icmp and host {lab.dst4}   "
                  "(while a ping crosses the link)", flush=True)
            sniffer = subprocess.Popen(lab.exec_argv("host", [
                sys.executable, "-m", "rawtools", "sniff", "-n", "-i", lab.host_if, "-c", "4",
                "--immediate", "icmp", "and", "host", lab.dst4]))
            time.sleep(1.0)
            lab.run("host", [sys.executable, "-m", "rawtools", "ping", "-c", "2", "-i", "0.2",
                             lab.dst4])
            try:
                sniffer.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sniffer.terminate()
                sniffer.wait()
    print("\nlab torn down.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
