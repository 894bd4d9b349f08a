"""icmpd through a chain of routers: real kernels' errors reach the client that caused them.

    host -> r1 -> r2 -> r3 -> dst      link 2 (r2 -> r3) narrowed to 1280 bytes

The expectations come from the lab's addressing and from arithmetic, not
from the code under test: router i answers from its left address
(198.18.(i-1).2 / 2001:db8:0:(i-1)::2), every hop takes one from the TTL
of what comes back (64 minus the routers in between), nothing listens on
dst's ports 9 and 10, and a datagram too big for link 2 is refused by r2
with that link's MTU. A C client, written from the README's description of
the protocol alone, is a second implementation of the client side.
"""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import rawtools_argv

from rawtools.testing.lab import Lab

ROOT = Path(__file__).resolve().parent.parent
PROBE = str(Path(__file__).with_name("icmpdprobe.py"))
NO_LIMITS = ["net.ipv4.icmp_ratelimit=0", "net.ipv4.icmp_msgs_per_sec=100000",
             "net.ipv4.icmp_msgs_burst=100000", "net.ipv6.icmp.ratelimit=0"]


@pytest.fixture
def chain(make_lab, tmp_path) -> Iterator[tuple[Lab, Path]]:
    """A 3-router lab without ICMP rate limits, and icmpd running in its host namespace."""
    lab = make_lab(3, mtu={2: 1280})
    for node in lab.nodes:
        lab.run(node, ["sysctl", "-q", "-w", *NO_LIMITS])
    lab.run("host", ["ip", "addr", "add", "198.18.0.11/24", "dev", lab.host_if])
    lab.run("host", ["ip", "addr", "add", "2001:db8::11/64", "dev", lab.host_if, "nodad"])
    path = tmp_path / "icmpd.sock"
    daemon = subprocess.Popen(lab.exec_argv("host", rawtools_argv("icmpd", "--socket",
                                                                  str(path))),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while not path.exists() and daemon.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.exists(), daemon.communicate(timeout=5)[1] if daemon.poll() is not None \
            else "no socket"
        yield lab, path
    finally:
        daemon.terminate()
        _, err = daemon.communicate(timeout=15)
    assert daemon.returncode == 0, err
    assert not path.exists()


def probe(lab: Lab, path: Path, *flows: str) -> list[list[dict[str, Any]]]:
    r = lab.run("host", [sys.executable, PROBE, str(path), *flows], timeout=60)
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["flow"] for o in out] == list(range(len(flows)))
    return [o["errors"] for o in out]


def brief(e: dict[str, Any]) -> tuple[Any, ...]:
    return (e["version"], e["type"], e["code"], e["errno"], e["offender"], e["ttl"], e["mtu"],
            e["dst"], e["dport"], e["local"], e["lport"], e["rewritten"])


@pytest.mark.lab
def test_closed_port_time_exceeded_and_too_big_v4(chain):
    lab, path = chain
    dst = "198.18.3.2"
    closed, ttl2, big = probe(lab, path, f"198.18.0.1:41000>{dst}:9,n=2",
                              f"198.18.0.1:41001>{dst}:9,ttl=2",
                              f"198.18.0.1:41002>{dst}:9,df,size=1400")
    # dst is 3 routers away: its answer arrives with TTL 64 - 3.
    assert [brief(e) for e in closed] == [
        (4, 3, 3, errno.ECONNREFUSED, dst, 61, None, dst, 9, "198.18.0.1", 41000, [])] * 2
    # TTL 2 dies at r2, which answers from 198.18.1.2, one router (r1) away.
    assert [brief(e) for e in ttl2] == [
        (4, 11, 0, errno.EHOSTUNREACH, "198.18.1.2", 63, None, dst, 9, "198.18.0.1", 41001, [])]
    # 20 + 8 + 1400 bytes do not fit link 2: r2 says so, with that link's MTU.
    assert [brief(e) for e in big] == [
        (4, 3, 4, errno.EMSGSIZE, "198.18.1.2", 63, 1280, dst, 9, "198.18.0.1", 41002, [])]


@pytest.mark.lab
def test_closed_port_time_exceeded_and_too_big_v6(chain):
    lab, path = chain
    dst, me, r2 = "2001:db8:0:3::2", "2001:db8::1", "2001:db8:0:1::2"
    closed, ttl2, big = probe(lab, path, f"[{me}]:41000>[{dst}]:9",
                              f"[{me}]:41001>[{dst}]:9,ttl=2",
                              f"[{me}]:41002>[{dst}]:9,df,size=1400")
    assert [brief(e) for e in closed] == [
        (6, 1, 4, errno.ECONNREFUSED, dst, 61, None, dst, 9, me, 41000, [])]
    assert [brief(e) for e in ttl2] == [
        (6, 3, 0, errno.EHOSTUNREACH, r2, 63, None, dst, 9, me, 41001, [])]
    assert [brief(e) for e in big] == [
        (6, 2, 0, errno.EMSGSIZE, r2, 63, 1280, dst, 9, me, 41002, [])]


@pytest.mark.lab
def test_two_clients_sharing_a_port_on_two_addresses_get_only_their_own(chain):
    lab, path = chain
    dst, dst6 = "198.18.3.2", "2001:db8:0:3::2"
    a, b, a6, b6 = probe(lab, path, f"198.18.0.1:42000>{dst}:9,n=3",
                         f"198.18.0.11:42000>{dst}:10,n=2",
                         f"[2001:db8::1]:42000>[{dst6}]:9,n=2",
                         f"[2001:db8::11]:42000>[{dst6}]:10,n=3")
    assert sorted((e["local"], e["lport"], e["dport"]) for e in a) == \
        [("198.18.0.1", 42000, 9)] * 3
    assert sorted((e["local"], e["lport"], e["dport"]) for e in b) == \
        [("198.18.0.11", 42000, 10)] * 2
    assert sorted((e["local"], e["lport"], e["dport"]) for e in a6) == \
        [("2001:db8::1", 42000, 9)] * 2
    assert sorted((e["local"], e["lport"], e["dport"]) for e in b6) == \
        [("2001:db8::11", 42000, 10)] * 3


@pytest.mark.lab
@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                    reason="no C compiler")
def test_a_c_client_written_from_the_readme_speaks_the_protocol(chain, tmp_path):
    lab, path = chain
    exe = tmp_path / "icmpd_client"
    cc = shutil.which("cc") or "gcc"
    build = subprocess.run([cc, "-Wall", "-Werror", "-o", str(exe),
                            str(ROOT / "scripts" / "icmpd" / "icmpd_client.c")],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    r = lab.run("host", [str(exe), str(path), "198.18.3.2", "9"], timeout=30)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == ("ICMP error: dest = 198.18.3.2:9, Connection refused, type = 3, "
                        "code = 3, from 198.18.3.2, ttl 61\n")
