#!/usr/bin/env python3
"""A chain of network namespaces for testing rawtools on real kernels.

    host -> r1 -> ... -> rN -> dst

Link k (k = 0..N) joins node k and node k+1 (node 0 is `host`, node N+1 is
`dst`) and carries 198.18.k.0/24 and 2001:db8:0:k::/64; the left end is .1 /
::1 and the right end .2 / ::2. So the host is 198.18.0.1, router i answers
from 198.18.(i-1).2 on its way in, and the destination is 198.18.N.2.
Routers forward, every node has routes both ways, DAD is off so IPv6 works at
once, and veth checksum offload is off so the checksums on the wire are real.
`mtu={k: size}` narrows link k (both ends), so that a router on the way
answers fragmentation-needed / packet-too-big for what does not fit.

Every namespace name starts with a prefix unique to the run, and `Lab` is a
context manager whose exit deletes them all, so a failing test leaves nothing
behind. The same code serves the pytest fixture (`rawtools.testing.plugin`),
the demo and the benchmarks:

    sudo python3 -m rawtools.testing.lab up --routers 3      # prints the prefix
    sudo python3 -m rawtools.testing.lab down PREFIX
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence


def _run(cmd: Sequence[str], input_text: str | None = None, check: bool = True) -> str:
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


class Lab:
    """A linear topology of `routers` routers between `host` and `dst`.

    Attributes name every address a test needs: `v4(node, side)` and
    `v6(node, side)` give a node's address on its left or right link, and
    `dst4`/`dst6`/`host4`/`host6` the two ends.
    """

    def __init__(self, routers: int = 3, prefix: str | None = None,
                 extra_dst4: Iterable[str] = (), extra_dst6: Iterable[str] = (),
                 mtu: Mapping[int, int] | None = None) -> None:
        if not 0 <= routers <= 250:
            raise ValueError("routers must be 0..250")
        self.mtu = dict(mtu or {})
        for link, size in self.mtu.items():
            if not 0 <= link <= routers or not 1280 <= size <= 65535:
                raise ValueError(f"mtu: link {link} of 0..{routers}, size 1280..65535 "
                                 "(IPv6's minimum)")
        self.n = routers
        self.prefix = prefix or f"rtl{uuid.uuid4().hex[:6]}"
        self.extra_dst4 = list(extra_dst4)
        self.extra_dst6 = list(extra_dst6)
        self.nodes = ["host"] + [f"r{i}" for i in range(1, routers + 1)] + ["dst"]
        self.built = False

    # -- naming -----------------------------------------------------------
    def ns(self, node: str) -> str:
        """Namespace name of `node` ('host', 'r1', ..., 'dst')."""
        return f"{self.prefix}-{node}"

    def index(self, node: str) -> int:
        return self.nodes.index(node)

    def ifname(self, link: int, side: str) -> str:
        """Interface of link `link` on its 'left' or 'right' end."""
        return f"l{link}{'a' if side == 'left' else 'b'}"

    def v4(self, node: str, side: str = "left") -> str:
        """IPv4 address of `node` on its left link (towards host) or right link."""
        i = self.index(node)
        return f"198.18.{i - 1}.2" if side == "left" else f"198.18.{i}.1"

    def v6(self, node: str, side: str = "left") -> str:
        """IPv6 address in canonical form, as tools print it (2001:db8::1)."""
        i = self.index(node)
        raw = f"2001:db8:0:{i - 1:x}::2" if side == "left" else f"2001:db8:0:{i:x}::1"
        return str(ipaddress.ip_address(raw))

    @property
    def host4(self) -> str:
        return self.v4("host", "right")

    @property
    def host6(self) -> str:
        return self.v6("host", "right")

    @property
    def dst4(self) -> str:
        return self.v4("dst", "left")

    @property
    def dst6(self) -> str:
        return self.v6("dst", "left")

    def router4(self, i: int) -> str:
        """Address router i answers from towards the host (its left side)."""
        return self.v4(f"r{i}", "left")

    def router6(self, i: int) -> str:
        return self.v6(f"r{i}", "left")

    @property
    def host_if(self) -> str:
        return self.ifname(0, "left")

    @property
    def dst_if(self) -> str:
        return self.ifname(self.n, "right")

    # -- building ---------------------------------------------------------
    def _batch(self, ns: str | None, lines: list[str]) -> None:
        cmd = ["ip"] + (["-n", ns] if ns else []) + ["-batch", "-"]
        _run(cmd, "\n".join(lines) + "\n")

    def _sysctl(self, ns: str, settings: dict[str, str]) -> None:
        args = [f"{k}={v}" for k, v in settings.items()]
        _run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", *args])

    def up(self) -> Lab:
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
        last = self.n + 1
        _run(["ip", "-batch", "-"], "".join(f"netns add {self.ns(n)}\n" for n in self.nodes))
        for i, node in enumerate(self.nodes):
            # Before any interface exists, so that every veth inherits "no DAD":
            # a tentative link-local address delays neighbour discovery by 1 s.
            conf = {"net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0",
                    "net.ipv4.ping_group_range": "0 2147483647"}
            if 0 < i < last:
                conf.update({"net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1"})
            self._sysctl(self.ns(node), conf)
        root = []
        for k in range(last):
            a, b = self.ifname(k, "left"), self.ifname(k, "right")
            root.append(f"link add {self.prefix}{a} netns {self.ns(self.nodes[k])} type veth "
                        f"peer name {self.prefix}{b} netns {self.ns(self.nodes[k + 1])}")
        self._batch(None, root)
        for i, node in enumerate(self.nodes):
            self._batch(self.ns(node), self._node_lines(i, node))
            if shutil.which("ethtool"):
                for k, side in ((i - 1, "right"), (i, "left")):
                    if 0 <= k < last:
                        _run(["ip", "netns", "exec", self.ns(node), "ethtool", "-K",
                              self.ifname(k, side), "tx", "off"], check=False)
        self._settle()

    def _node_lines(self, i: int, node: str) -> list[str]:
        """`ip -batch` lines giving node i its interfaces, addresses and routes."""
        last = self.n + 1
        lines = ["link set lo up"]
        for k, side in ((i - 1, "right"), (i, "left")):
            if not 0 <= k < last:
                continue
            short = self.ifname(k, side)
            end = "1" if side == "left" else "2"
            lines += [f"link set {self.prefix}{short} name {short}",
                      f"addr add 198.18.{k}.{end}/24 dev {short}",
                      f"addr add 2001:db8:0:{k:x}::{end}/64 dev {short} nodad"]
            if k in self.mtu:
                lines.append(f"link set {short} mtu {self.mtu[k]}")
            lines.append(f"link set {short} up")
        if node == "dst":
            lines += [f"addr add {a}/32 dev {self.dst_if}" for a in self.extra_dst4]
            lines += [f"addr add {a}/128 dev {self.dst_if} nodad" for a in self.extra_dst6]
        for k in range(last):
            if k in (i - 1, i):
                continue
            if k > i:
                via4, via6 = f"198.18.{i}.2", f"2001:db8:0:{i:x}::2"
            else:
                via4, via6 = f"198.18.{i - 1}.1", f"2001:db8:0:{i - 1:x}::1"
            lines += [f"route add 198.18.{k}.0/24 via {via4}",
                      f"route add 2001:db8:0:{k:x}::/64 via {via6}"]
        if i < last:
            lines += self._extra_routes(i)
        return lines

    def _extra_routes(self, i: int) -> list[str]:
        """Routes from node i towards the extra destination addresses.

        Their whole /24 (/64) is routed down the chain and the last hop before
        `dst` treats it as on-link: it resolves each address with ARP/ND, so a
        live address answers and a missing one gives a real "host unreachable"
        from that router, as on a LAN being swept.
        """
        nets4 = {str(ipaddress.ip_network(f"{a}/24", strict=False)) for a in self.extra_dst4}
        nets6 = {str(ipaddress.ip_network(f"{a}/64", strict=False)) for a in self.extra_dst6}
        if i == self.n:
            dev = self.ifname(i, "left")
            return [f"route add {n} dev {dev}" for n in sorted(nets4 | nets6)]
        right4, right6 = f"198.18.{i}.2", f"2001:db8:0:{i:x}::2"
        return ([f"route add {n} via {right4}" for n in sorted(nets4)]
                + [f"route add {n} via {right6}" for n in sorted(nets6)])

    def _settle(self, timeout: float = 5.0) -> None:
        """Wait until every veth has a usable IPv6 link-local address.

        Neighbour discovery answers from the link-local address, which a veth
        gets only once both ends are up; a probe sent before that waits a full
        1 s retransmission, which would look like a slow hop to every test.
        """
        deadline = time.monotonic() + timeout
        want = {node: (2 if 0 < i <= self.n else 1) for i, node in enumerate(self.nodes)}
        while want and time.monotonic() < deadline:
            for node in list(want):
                out = _run(["ip", "-n", self.ns(node), "-6", "-o", "addr", "show", "scope",
                            "link"], check=False)
                ready = [ln for ln in out.splitlines() if "tentative" not in ln]
                if len(ready) >= want[node]:
                    del want[node]
            if want:
                time.sleep(0.02)

    def down(self) -> None:
        """Delete every namespace of this lab; safe to call more than once."""
        if not self.built:
            return
        for node in self.nodes:
            _run(["ip", "netns", "del", self.ns(node)], check=False)
        self.built = False

    def __enter__(self) -> Lab:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()

    # -- using ------------------------------------------------------------
    def exec_argv(self, node: str, argv: Sequence[str]) -> list[str]:
        """argv that runs `argv` inside `node`'s namespace."""
        return ["ip", "netns", "exec", self.ns(node), *argv]

    def run(self, node: str, argv: Sequence[str], timeout: float = 60,
            check: bool = False, env: Mapping[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
        """Run a command in `node`'s namespace and capture its output as text."""
        return subprocess.run(self.exec_argv(node, argv), capture_output=True, text=True,
                              timeout=timeout, check=check, env=env)

    def nft(self, node: str, ruleset: str) -> None:
        """Load an nftables ruleset into `node`'s namespace."""
        if shutil.which("nft") is None:
            raise RuntimeError("nft (Debian package nftables) is needed for this lab option")
        _run(self.exec_argv(node, ["nft", "-f", "-"]), ruleset)

    def silence(self, router: int) -> None:
        """Make router `router` drop the time-exceeded errors it would send."""
        self.nft(f"r{router}", """
table inet rtlab_silence {
  chain out { type filter hook output priority 0; policy accept;
    icmp type time-exceeded drop
    icmpv6 type time-exceeded drop
  }
}
""")

    def duplicate_to_host(self, router: int = 1) -> None:
        """Make `router` send the host two copies of every ICMP message it forwards.

        nftables' `dup` clones each packet on its way out towards the host, so
        every echo reply and router error arrives twice: ping's (DUP!) path.
        """
        self.nft(f"r{router}", f"""
table ip rtlab_dup {{
  chain post {{ type filter hook postrouting priority 0; policy accept;
    ip daddr {self.host4} ip protocol icmp dup to {self.host4} device "l{router - 1}b"
  }}
}}
""")

    def firewall_dst(self, proto: str | None = None, action: str = "drop") -> None:
        """Drop (or `action`, e.g. 'reject') what reaches the destination.

        `proto` limits it to 'udp', 'tcp' or 'icmp' (echo requests, both
        families); None firewalls everything but neighbour discovery.
        """
        match = {
            None: "meta l4proto != ipv6-icmp",
            "udp": "meta l4proto udp",
            "tcp": "meta l4proto tcp",
            "icmp": "icmp type echo-request",
        }[proto]
        extra = "    icmpv6 type echo-request " + action + "\n" if proto == "icmp" else ""
        self.nft("dst", f"""
table inet rtlab_fw {{
  chain in {{ type filter hook input priority 0; policy accept;
    {match} {action}
{extra}  }}
}}
""")

    def unreachable_from_last(self, net4: str, net6: str | None = None,
                              kind: str | None = "unreachable") -> None:
        """Route `net4` (and `net6`) down the chain to the last router, which fails it.

        With kind 'unreachable' the last router holds an unreachable route and
        answers host unreachable (!H) for IPv4, no route (!N) for IPv6;
        'prohibit' gives administratively prohibited (!X); None leaves it with
        no route at all, which IPv4 answers with net unreachable (!N).
        """
        last = f"r{self.n}" if self.n else "host"
        if kind is not None:
            lines = [f"route add {kind} {net4}"]
            if net6:
                lines.append(f"route add {kind} {net6}")
            self._batch(self.ns(last), lines)
        for i in range(self.n):
            node = self.nodes[i]
            extra = [f"route add {net4} via 198.18.{i}.2"]
            if net6:
                extra.append(f"route add {net6} via 2001:db8:0:{i:x}::2")
            self._batch(self.ns(node), extra)


def cleanup_stale(prefix: str = "rtl") -> list[str]:
    """Delete namespaces left by a killed run whose names start with `prefix`."""
    gone = []
    for line in _run(["ip", "netns", "list"], check=False).splitlines():
        name = line.split()[0] if line.strip() else ""
        if name.startswith(prefix):
            _run(["ip", "netns", "del", name], check=False)
            gone.append(name)
    return gone


def _is_lab_address(addr: str) -> bool:
    ip = ipaddress.ip_address(addr)
    return ip in ipaddress.ip_network("198.18.0.0/15") or ip in ipaddress.ip_network(
        "2001:db8::/32")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="rawtools network-namespace lab")
    sub = p.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("up", help="build a lab and print its prefix")
    u.add_argument("--routers", type=int, default=3)
    u.add_argument("--prefix")
    u.add_argument("--silence", type=int, action="append", default=[],
                   help="silence router N (repeatable)")
    u.add_argument("--firewall-dst", choices=["all", "udp", "tcp", "icmp"])
    d = sub.add_parser("down", help="delete a lab's namespaces")
    d.add_argument("prefix")
    args = p.parse_args(argv)
    if args.cmd == "down":
        print("\n".join(cleanup_stale(args.prefix)))
        return 0
    lab = Lab(args.routers, args.prefix).up()
    for r in args.silence:
        lab.silence(r)
    if args.firewall_dst:
        lab.firewall_dst(None if args.firewall_dst == "all" else args.firewall_dst)
    print(lab.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
