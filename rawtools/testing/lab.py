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

`impair={k: Impairment(delay_ms=25, jitter_ms=5, loss_pct=1, seed=7)}` gives
link k the latency, jitter, loss and reordering of a real path; this kernel
has no netem, so it is done in user space. A namespace `{prefix}-dl{k}` is
spliced into the link (node k <-> `left` | dl{k} | `right` <-> node k+1) and
runs `rawtools.testing.delayline`, which copies every frame between its two
veths, late, in both directions. It has no addresses and sends nothing of
its own (IPv6 is off there), so the nodes keep the same interface names,
addresses and routes and see one another as on a plain wire: every address
helper and test works unchanged, and a traceroute sees no extra hop. The
relay starts in `up()` (which waits for it to be ready) and is ended in
`down()` (SIGTERM, then SIGKILL), whose counts line it leaves in
`relay_reports[k]`. Measured on the lab's loaded two-core VM: a round trip
across an impaired link takes twice the delay plus 0.05-0.15 ms (the lab's
own round trip is 0.05 ms), never less, and now and then a sample a few ms
more when a CPU is stolen; the relay runs at real-time priority so that busy
neighbours do not stretch every delay. It relayed 75,000-80,000 frames/s one
way without losing one, past which the sender, on the same two cores, is the
limit (`scripts/bench/delayline.py`).

Every namespace name starts with a prefix unique to the run, and `Lab` is a
context manager whose exit deletes them all, so a failing test leaves nothing
behind. The same code serves the pytest fixture (`rawtools.testing.plugin`),
the demo and the benchmarks:

    sudo python3 -m rawtools.testing.lab up --routers 3      # prints the prefix
    sudo python3 -m rawtools.testing.lab up --routers 1 --delay-ms 1:25 --loss-pct 1:2
    sudo python3 -m rawtools.testing.lab down PREFIX         # relays too
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import ipaddress
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from rawtools.testing.delayline import Impairment
from rawtools.testing.netns import Topology, run_checked


class Lab(Topology):
    """A linear topology of `routers` routers between `host` and `dst`.

    Attributes name every address a test needs: `v4(node, side)` and
    `v6(node, side)` give a node's address on its left or right link, and
    `dst4`/`dst6`/`host4`/`host6` the two ends.
    """

    def __init__(self, routers: int = 3, prefix: str | None = None,
                 extra_dst4: Iterable[str] = (), extra_dst6: Iterable[str] = (),
                 mtu: Mapping[int, int] | None = None,
                 impair: Mapping[int, Impairment] | None = None) -> None:
        if not 0 <= routers <= 250:
            raise ValueError("routers must be 0..250")
        self.impair = dict(impair or {})
        for link, imp in self.impair.items():
            if not 0 <= link <= routers or not isinstance(imp, Impairment):
                raise ValueError(f"impair: link {link} of 0..{routers}, each an Impairment "
                                 f"(got {imp!r})")
        self.mtu = dict(mtu or {})
        for link, size in self.mtu.items():
            if not 0 <= link <= routers or not 1280 <= size <= 65535:
                raise ValueError(f"mtu: link {link} of 0..{routers}, size 1280..65535 "
                                 "(IPv6's minimum)")
        super().__init__(prefix or f"rtl{uuid.uuid4().hex[:6]}",
                         ["host"] + [f"r{i}" for i in range(1, routers + 1)] + ["dst"])
        self.n = routers
        self.extra_dst4 = list(extra_dst4)
        self.extra_dst6 = list(extra_dst6)
        self._relays: dict[int, subprocess.Popen[str]] = {}
        self.relay_reports: dict[int, str] = {}

    # -- naming -----------------------------------------------------------
    def dl_ns(self, link: int) -> str:
        """Namespace of the delay line spliced into impaired link `link`."""
        return f"{self.prefix}-dl{link}"

    def namespaces(self) -> list[str]:
        """Every namespace of this lab: the nodes', then the delay lines'."""
        return [self.ns(n) for n in self.nodes] + [self.dl_ns(k) for k in sorted(self.impair)]

    @property
    def relay_pids(self) -> dict[int, int]:
        """Process id of each running delay line, by link."""
        return {k: p.pid for k, p in self._relays.items() if p.poll() is None}

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
        run_checked(cmd, "\n".join(lines) + "\n")

    def _build(self) -> None:
        last = self.n + 1
        if self.impair and shutil.which("ethtool") is None:
            raise RuntimeError("impaired links need ethtool (Debian package ethtool): merged "
                               "(GRO/TSO) frames could not cross the delay line")
        self._add_namespaces(self.nodes[1:-1])
        for k in self.impair:
            # A wire has no addresses: IPv6 off before the veths exist, so the
            # delay line's own kernel sends nothing (no RS, MLD or DAD).
            self.sysctl(self.dl_ns(k), {"net.ipv6.conf.all.disable_ipv6": "1",
                                         "net.ipv6.conf.default.disable_ipv6": "1"})
        root = []
        for k in range(last):
            a, b = self.ifname(k, "left"), self.ifname(k, "right")
            left, right = self.ns(self.nodes[k]), self.ns(self.nodes[k + 1])
            if k in self.impair:
                dl = self.dl_ns(k)
                root += [f"link add {self.prefix}{a} netns {left} type veth "
                         f"peer name {self.prefix}d{k}l netns {dl}",
                         f"link add {self.prefix}d{k}r netns {dl} type veth "
                         f"peer name {self.prefix}{b} netns {right}"]
            else:
                root.append(f"link add {self.prefix}{a} netns {left} type veth "
                            f"peer name {self.prefix}{b} netns {right}")
        self._batch(None, root)
        for i, node in enumerate(self.nodes):
            self._batch(self.ns(node), self._node_lines(i, node))
            if shutil.which("ethtool"):
                for k, side in ((i - 1, "right"), (i, "left")):
                    if 0 <= k < last:
                        run_checked(["ip", "netns", "exec", self.ns(node), "ethtool", "-K",
                              self.ifname(k, side), "tx", "off"], check=False)
        for k in sorted(self.impair):
            self._splice(k)
        self._settle()
        self._await_relays()

    def _splice(self, k: int) -> None:
        """Bring up delay line k's veths (`left` towards node k, `right` towards k+1), start it.

        Offloads go off on both: GRO would merge TCP segments into frames
        longer than the MTU, which no socket can send on, and checksum
        offload would hand on frames whose checksums are still to be filled.
        """
        dl = self.dl_ns(k)
        lines = [f"link set {self.prefix}d{k}l name left",
                 f"link set {self.prefix}d{k}r name right"]
        for name in ("left", "right"):
            if k in self.mtu:
                lines.append(f"link set {name} mtu {self.mtu[k]}")
            lines.append(f"link set {name} up")
        self._batch(dl, lines)
        for name in ("left", "right"):
            run_checked(["ip", "netns", "exec", dl, "ethtool", "-K", name, "tx", "off", "sg", "off",
                  "tso", "off", "gso", "off", "gro", "off"])
        argv = [sys.executable, "-m", "rawtools.testing.delayline", "--a", "left", "--b",
                "right", *self.impair[k].argv()]
        # A session of its own: a lab left up by the CLI keeps its relays when
        # the terminal goes; `down` (cleanup_stale) ends them.
        self._relays[k] = subprocess.Popen(
            ["ip", "netns", "exec", dl, *argv], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)

    def _await_relays(self, timeout: float = 20.0) -> None:
        """Wait for every delay line's `ready`, so that no test's first frame is lost."""
        deadline = time.monotonic() + timeout
        for k, proc in list(self._relays.items()):
            assert proc.stdout is not None
            wait = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([proc.stdout], [], [], wait)
            if ready and proc.stdout.readline().strip() == "ready":
                proc.stdout.close()
                continue
            proc.kill()
            _, err = proc.communicate()
            del self._relays[k]
            raise RuntimeError(f"delay line of link {k} did not start: "
                               f"{err.strip() or f'not ready within {timeout:g} s'}")

    def _stop_relays(self) -> None:
        """SIGTERM every delay line (SIGKILL if it lingers) and keep its counts line."""
        for proc in self._relays.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for k, proc in self._relays.items():
            try:
                _, err = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            self.relay_reports[k] = (err or "").strip()
        self._relays.clear()

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

    def _veths(self, node: str) -> int:
        return 1 if node in ("host", "dst") else 2

    def _teardown(self) -> None:
        self._stop_relays()

    @contextlib.contextmanager
    def tcpdump(self, path: str | os.PathLike[str], node: str = "host",
                expression: str = "ip or ip6") -> Iterator[str]:
        """tcpdump on `node`'s first interface, writing every packet to `path` as it comes.

        The oracle of what crossed the wire: the block starts once tcpdump
        says it listens, and on the way out waits a second (a late answer,
        what the kernel still holds) before stopping it, so the file is whole.
        """
        if shutil.which("tcpdump") is None:
            raise RuntimeError("tcpdump (Debian package tcpdump) is needed for a lab capture")
        iface = self.host_if if node == "host" else self.ifname(self.index(node) - 1, "right")
        p = subprocess.Popen(self.exec_argv(node, ["tcpdump", "-U", "-n", "-i", iface, "-w",
                                                   str(path), expression]),
                             stderr=subprocess.PIPE, text=True)
        assert p.stderr is not None
        for line in p.stderr:  # "listening on l0a, ..." once the capture runs
            if "listening on" in line:
                break
        try:
            yield str(path)
        finally:
            time.sleep(1.0)
            p.send_signal(signal.SIGINT)
            p.wait(timeout=10)

    def nft(self, node: str, ruleset: str) -> None:
        """Load an nftables ruleset into `node`'s namespace."""
        if shutil.which("nft") is None:
            raise RuntimeError("nft (Debian package nftables) is needed for this lab option")
        run_checked(self.exec_argv(node, ["nft", "-f", "-"]), ruleset)

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


_DELAY_LINE_NS = re.compile(r"-dl\d+$")


def cleanup_stale(prefix: str = "rtl") -> list[str]:
    """Delete namespaces left by a killed run whose names start with `prefix`.

    The relay of a delay line namespace is ended first: deleting the name
    alone would leave the process (and its namespace) running unseen.
    """
    gone = []
    for line in run_checked(["ip", "netns", "list"], check=False).splitlines():
        name = line.split()[0] if line.strip() else ""
        if name.startswith(prefix):
            if _DELAY_LINE_NS.search(name):
                _end_processes_in(name)
            run_checked(["ip", "netns", "del", name], check=False)
            gone.append(name)
    return gone


def _end_processes_in(ns: str, grace: float = 2.0) -> None:
    """SIGTERM what runs in namespace `ns`, and SIGKILL what is still there after `grace` s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _netns_pids(ns)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            time.sleep(0.05)
            pids = _netns_pids(ns)
        if not pids:
            return


def _netns_pids(ns: str) -> list[int]:
    return [int(p) for p in run_checked(["ip", "netns", "pids", ns], check=False).split()]


def _is_lab_address(addr: str) -> bool:
    ip = ipaddress.ip_address(addr)
    return ip in ipaddress.ip_network("198.18.0.0/15") or ip in ipaddress.ip_network(
        "2001:db8::/32")


def _link_value(text: str) -> tuple[int, str]:
    """`LINK:VALUE` of the impairment options, the value checked later by Impairment."""
    link, sep, value = text.partition(":")
    if not sep or not link.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not LINK:VALUE (e.g. 1:25)")
    return int(link), value


def _impairments(args: argparse.Namespace) -> dict[int, Impairment]:
    """The `impair` of Lab from the CLI options: one Impairment per link named."""
    out: dict[int, Impairment] = {}
    for option, field, kind in ((args.delay_ms, "delay_ms", float),
                                (args.jitter_ms, "jitter_ms", float),
                                (args.loss_pct, "loss_pct", float),
                                (args.impair_seed, "seed", int)):
        for link, value in option:
            try:
                change: dict[str, Any] = {field: kind(value)}
                out[link] = dataclasses.replace(out.get(link, Impairment()), **change)
            except ValueError as e:
                raise ValueError(f"link {link}: {field} {value!r}: {e}") from None
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="rawtools network-namespace lab")
    sub = p.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("up", help="build a lab and print its prefix")
    u.add_argument("--routers", type=int, default=3)
    u.add_argument("--prefix")
    u.add_argument("--silence", type=int, action="append", default=[],
                   help="silence router N (repeatable)")
    u.add_argument("--firewall-dst", choices=["all", "udp", "tcp", "icmp"])
    for flag, what in (("--delay-ms", "delay each frame on link LINK by VALUE ms"),
                       ("--jitter-ms", "add a random 0..VALUE ms to each frame's delay"),
                       ("--loss-pct", "drop VALUE percent of the frames on link LINK"),
                       ("--impair-seed", "seed the random draws of link LINK's delay line")):
        u.add_argument(flag, type=_link_value, action="append", default=[],
                       metavar="LINK:VALUE", help=what + " (repeatable, both directions)")
    d = sub.add_parser("down", help="delete a lab's namespaces")
    d.add_argument("prefix")
    args = p.parse_args(argv)
    if args.cmd == "down":
        print("\n".join(cleanup_stale(args.prefix)))
        return 0
    try:
        lab = Lab(args.routers, args.prefix, impair=_impairments(args))
    except ValueError as e:
        p.error(str(e))
    lab.up()
    for r in args.silence:
        lab.silence(r)
    if args.firewall_dst:
        lab.firewall_dst(None if args.firewall_dst == "all" else args.firewall_dst)
    print(lab.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
