#!/usr/bin/env python3
"""A diamond of network namespaces with equal-cost multipath, for `trace --mda`.

    host -- r1 =={ m1 .. mW }== r2 -- dst

r1 reaches dst over a multipath route (`nexthop via m1 ... nexthop via mW`)
hashed on the layer-4 header (fib_multipath_hash_policy=1, IPv4 and IPv6),
so each UDP or TCP flow (addresses and ports) keeps to one middle router and
different flows spread over all of them: what a per-flow load balancer on
the Internet does, and what the Multipath Detection Algorithm must uncover.
The way back is a single path (r2 and dst answer through m1), so every router
answers from one address and the lab's addresses are the oracle:

    link        IPv4              IPv6                  left end  right end
    host-r1     198.18.0.0/24     2001:db8:0:0::/64     .1 host   .2 r1
    r1-mi       198.18.1i.0/24    2001:db8:0:1i::/64    .1 r1     .2 mi
    mi-r2       198.18.2i.0/24    2001:db8:0:2i::/64    .1 mi     .2 r2
    r2-dst      198.18.30.0/24    2001:db8:0:30::/64    .1 r2     .2 dst

Routers answer a time-exceeded from the address of the interface towards
the host: r1 198.18.0.2, mi 198.18.1i.2, r2 198.18.21.2 (its link to m1).

Names share a prefix unique to the run (`rte` + 6 hex digits), the context
manager deletes every namespace even when building or a test fails, and veth
transmit checksum offload is off so the checksums on the wire are real:

    sudo python3 -m rawtools.testing.ecmp up --width 4      # prints the prefix
    sudo python3 -m rawtools.testing.ecmp down PREFIX
"""

from __future__ import annotations

import argparse
import ipaddress
import shutil
import sys
import uuid

from rawtools.testing.lab import cleanup_stale
from rawtools.testing.netns import Topology, run_checked

MAX_WIDTH = 9
"""Middle routers numbered 1..9 keep every link's number within one decimal digit pair."""


class Diamond(Topology):
    """host, r1, m1..m`width`, r2, dst: `width` equal-cost paths between r1 and r2."""

    run_timeout = 120

    def __init__(self, width: int = 2, prefix: str | None = None) -> None:
        if not 1 <= width <= MAX_WIDTH:
            raise ValueError(f"width must be 1..{MAX_WIDTH}")
        self.width = width
        self.middle = [f"m{i}" for i in range(1, width + 1)]
        super().__init__(prefix or f"rte{uuid.uuid4().hex[:6]}",
                         ["host", "r1", *self.middle, "r2", "dst"])

    # -- naming ---------------------------------------------------------------
    @staticmethod
    def _v6(net: int, end: int) -> str:
        return str(ipaddress.ip_address(f"2001:db8:0:{net}::{end}"))

    @property
    def host4(self) -> str:
        return "198.18.0.1"

    @property
    def host6(self) -> str:
        return self._v6(0, 1)

    @property
    def r1_4(self) -> str:
        return "198.18.0.2"

    @property
    def r1_6(self) -> str:
        return self._v6(0, 2)

    def middle4(self, i: int) -> str:
        """The address middle router i (1-based) answers from."""
        return f"198.18.{10 + i}.2"

    def middle6(self, i: int) -> str:
        return self._v6(10 + i, 2)

    @property
    def r2_4(self) -> str:
        return "198.18.21.2"

    @property
    def r2_6(self) -> str:
        return self._v6(21, 2)

    @property
    def dst4(self) -> str:
        return "198.18.30.2"

    @property
    def dst6(self) -> str:
        return self._v6(30, 2)

    def hops(self, version: int) -> list[list[str]]:
        """What a complete multipath trace from the host finds: the interfaces per hop."""
        if version == 4:
            return [[self.r1_4], [self.middle4(i) for i in range(1, self.width + 1)],
                    [self.r2_4], [self.dst4]]
        return [[self.r1_6], [self.middle6(i) for i in range(1, self.width + 1)],
                [self.r2_6], [self.dst6]]

    def links(self, version: int) -> set[tuple[str, str]]:
        """Every link between consecutive hops: r1 -> mi, mi -> r2, r2 -> dst."""
        [r1], mids, [r2], [dst] = self.hops(version)
        return {(r1, m) for m in mids} | {(m, r2) for m in mids} | {(r2, dst)}

    # -- building -------------------------------------------------------------
    def _links(self) -> list[tuple[str, str, int, str, str]]:
        """(left node, right node, link number, left ifname, right ifname)."""
        out = [("host", "r1", 0, "tor1", "tohost")]
        for i, m in enumerate(self.middle, 1):
            out.append(("r1", m, 10 + i, f"to{m}", "tor1"))
            out.append((m, "r2", 20 + i, "tor2", f"to{m}"))
        out.append(("r2", "dst", 30, "todst", "tor2"))
        return out

    def _routes(self, node: str) -> list[str]:
        """`ip -batch` route lines of `node`: towards dst rightwards, the rest leftwards."""
        if node == "host":
            return ["route add 198.18.0.0/15 via 198.18.0.2",
                    "route add 2001:db8::/32 via 2001:db8:0:0::2"]
        if node == "r1":
            hops4 = " ".join(f"nexthop via 198.18.{10 + i}.2 dev to{m}"
                             for i, m in enumerate(self.middle, 1))
            hops6 = " ".join(f"nexthop via 2001:db8:0:{10 + i}::2 dev to{m}"
                             for i, m in enumerate(self.middle, 1))
            # One next hop is a plain route: `ip` refuses a multipath of one.
            if self.width == 1:
                hops4 = hops4.replace("nexthop ", "")
                hops6 = hops6.replace("nexthop ", "")
            return [f"route add 198.18.30.0/24 {hops4}", f"route add 2001:db8:0:30::/64 {hops6}"]
        if node in self.middle:
            i = self.middle.index(node) + 1
            return [f"route add 198.18.0.0/24 via 198.18.{10 + i}.1",
                    f"route add 2001:db8:0:0::/64 via 2001:db8:0:{10 + i}::1",
                    f"route add 198.18.30.0/24 via 198.18.{20 + i}.2",
                    f"route add 2001:db8:0:30::/64 via 2001:db8:0:{20 + i}::2"]
        if node == "r2":
            # The way back is through m1 alone, with a preferred source: r2
            # answers from one address (ICMPv6 would otherwise answer from the
            # interface each probe came in by).
            return ["route add 198.18.0.0/24 via 198.18.21.1 src 198.18.21.2",
                    "route add 2001:db8:0:0::/64 via 2001:db8:0:21::1 src 2001:db8:0:21::2"]
        return ["route add 198.18.0.0/15 via 198.18.30.1",
                "route add 2001:db8::/32 via 2001:db8:0:30::1"]

    def _build(self) -> None:
        self._add_namespaces(self.nodes[1:-1], {"r1": {
            "net.ipv4.fib_multipath_hash_policy": "1", "net.ipv6.fib_multipath_hash_policy": "1"}})
        links = self._links()
        run_checked(["ip", "-batch", "-"], "".join(
            f"link add {self.prefix}{k}a netns {self.ns(a)} type veth "
            f"peer name {self.prefix}{k}b netns {self.ns(b)}\n" for a, b, k, _, _ in links))
        lines: dict[str, list[str]] = {n: ["link set lo up"] for n in self.nodes}
        for a, b, k, ia, ib in links:
            for node, tmp, name, end in ((a, f"{k}a", ia, 1), (b, f"{k}b", ib, 2)):
                lines[node] += [f"link set {self.prefix}{tmp} name {name}",
                                f"addr add 198.18.{k}.{end}/24 dev {name}",
                                f"addr add 2001:db8:0:{k}::{end}/64 dev {name} nodad",
                                f"link set {name} up"]
        for node in self.nodes:
            run_checked(["ip", "-n", self.ns(node), "-batch", "-"],
                 "\n".join(lines[node] + self._routes(node)) + "\n")
        if shutil.which("ethtool"):
            for a, b, _k, ia, ib in links:
                for node, name in ((a, ia), (b, ib)):
                    run_checked(self.exec_argv(node, ["ethtool", "-K", name, "tx", "off"]),
                                check=False)
        self._settle()

    def _veths(self, node: str) -> int:
        return sum(node in (a, b) for a, b, *_ in self._links())

    def multipath_hashing(self) -> dict[int, bool]:
        """Whether r1 took the L4 hash policy, per IP version (a kernel may lack the IPv6 knob)."""
        out = {}
        for v, key in ((4, "net.ipv4.fib_multipath_hash_policy"),
                       (6, "net.ipv6.fib_multipath_hash_policy")):
            got = run_checked(self.exec_argv("r1", ["sysctl", "-n", key]), check=False).strip()
            out[v] = got == "1"
        return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="rawtools equal-cost multipath lab (a diamond)")
    sub = p.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("up", help="build a diamond and print its prefix")
    u.add_argument("--width", type=int, default=2, help=f"middle routers, 1..{MAX_WIDTH}")
    u.add_argument("--prefix")
    d = sub.add_parser("down", help="delete a diamond's namespaces")
    d.add_argument("prefix")
    args = p.parse_args(argv)
    if args.cmd == "down":
        print("\n".join(cleanup_stale(args.prefix)))
        return 0
    print(Diamond(args.width, args.prefix).up().prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
