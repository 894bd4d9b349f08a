"""What every namespace topology of the test labs shares: names, life cycle, running in a node.

The chain (`Lab`) and the multipath diamond (`ecmp.Diamond`) differ in
their links and routes only; creating and deleting the namespaces, waiting
for IPv6 link-local addresses and running a command in a node are the same
steps, and a fix to one (a namespace left behind on a failed build, a probe
sent before neighbour discovery can answer) must reach both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from typing import TypeVar

Self = TypeVar("Self", bound="Topology")

# Set in every node before any interface exists, so that every veth inherits
# "no DAD" (a tentative link-local address delays neighbour discovery by 1 s),
# and so that unprivileged ICMP datagram sockets work for every group.
NODE_SYSCTLS = {"net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0",
                "net.ipv4.ping_group_range": "0 2147483647"}
ROUTER_SYSCTLS = {"net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1"}


def run_checked(cmd: Sequence[str], input_text: str | None = None, check: bool = True) -> str:
    """Run a setup command; a failure raises with the command's own message."""
    proc = subprocess.run(list(cmd), input=input_text, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def can_build() -> str | None:
    """None if this process may build labs, else the reason it cannot."""
    if os.geteuid() != 0:
        return "lab tests need root (network namespaces)"
    if shutil.which("ip") is None:
        return "lab tests need iproute2 (ip)"
    return None


class Topology:
    """Namespaces `{prefix}-{node}` for `nodes`, built by `up()` and all deleted by `down()`.

    Subclasses build their links in `_build()` and say in `_veths(node)` how
    many veths each node has, which `_settle()` waits for.
    """

    run_timeout: float = 60

    def __init__(self, prefix: str, nodes: list[str]) -> None:
        self.prefix = prefix
        self.nodes = nodes
        self.built = False

    def ns(self, node: str) -> str:
        """Namespace name of `node`."""
        return f"{self.prefix}-{node}"

    def namespaces(self) -> list[str]:
        """Every namespace of this topology."""
        return [self.ns(n) for n in self.nodes]

    def up(self: Self) -> Self:
        """Build everything; on any failure, delete what was built and raise."""
        reason = can_build()
        if reason:
            raise RuntimeError(reason)
        self.built = True
        try:
            self._build()
        except BaseException:
            self.down()
            raise
        return self

    def _build(self) -> None:
        raise NotImplementedError

    def _teardown(self) -> None:
        """What must end before the namespaces go (processes running in them)."""

    def down(self) -> None:
        """Delete every namespace; safe to call more than once."""
        if not self.built:
            return
        try:
            self._teardown()
        finally:
            for ns in self.namespaces():
                run_checked(["ip", "netns", "del", ns], check=False)
            self.built = False

    def __enter__(self: Self) -> Self:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()

    def _add_namespaces(self, routers: Sequence[str],
                        extra: Mapping[str, Mapping[str, str]] | None = None) -> None:
        """Create every namespace and set each node's sysctls (`routers` forward)."""
        run_checked(["ip", "-batch", "-"], "".join(f"netns add {ns}\n"
                                                   for ns in self.namespaces()))
        for node in self.nodes:
            conf = dict(NODE_SYSCTLS)
            if node in routers:
                conf.update(ROUTER_SYSCTLS)
            conf.update((extra or {}).get(node, {}))
            self.sysctl(self.ns(node), conf)

    @staticmethod
    def sysctl(ns: str, settings: Mapping[str, str]) -> None:
        """Set kernel parameters in namespace `ns`."""
        run_checked(["ip", "netns", "exec", ns, "sysctl", "-q", "-w",
                     *(f"{k}={v}" for k, v in settings.items())])

    def _veths(self, node: str) -> int:
        raise NotImplementedError

    def _settle(self, timeout: float = 5.0) -> None:
        """Wait until every veth has a usable IPv6 link-local address.

        Neighbour discovery answers from the link-local address, which a veth
        gets only once both ends are up; a probe sent before that waits a full
        1 s retransmission, which would look like a slow hop to every test.
        """
        want = {node: self._veths(node) for node in self.nodes}
        deadline = time.monotonic() + timeout
        while want and time.monotonic() < deadline:
            for node in list(want):
                out = run_checked(["ip", "-n", self.ns(node), "-6", "-o", "addr", "show",
                                   "scope", "link"], check=False)
                if sum("tentative" not in ln for ln in out.splitlines()) >= want[node]:
                    del want[node]
            if want:
                time.sleep(0.02)

    def exec_argv(self, node: str, argv: Sequence[str]) -> list[str]:
        """argv that runs `argv` inside `node`'s namespace."""
        return ["ip", "netns", "exec", self.ns(node), *argv]

    def run(self, node: str, argv: Sequence[str], timeout: float | None = None,
            check: bool = False, env: Mapping[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
        """Run a command in `node`'s namespace and capture its output as text."""
        return subprocess.run(self.exec_argv(node, argv), capture_output=True, text=True,
                              timeout=self.run_timeout if timeout is None else timeout,
                              check=check, env=env)
