"""`rawtools doctor` against real namespaces: a healthy lab passes, each fault fails its check.

doctor always runs inside the lab's host namespace (`lab.run("host", ...)`),
never from the test process. The oracles are the lab's own configuration
(its addresses, the MTU a test sets, the routes it adds or leaves out) and
iputils ping run in the same namespace; never doctor's own earlier output.
A resolver is `rawtools.testing.dnsserver` running in the destination.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import rawtools_argv

pytestmark = pytest.mark.lab

CHECK_KEYS = {"schema": str, "tool": str, "type": str, "name": str, "subject": str,
              "verdict": str, "evidence": str, "details": dict}
SUMMARY_KEYS = {"schema": str, "tool": str, "type": str, "host": (str, type(None)), "ok": int,
                "warn": int, "fail": int, "strict": bool, "passed": bool, "checks": list}


def with_default_routes(lab) -> None:
    """What a real host has and the lab does not: default routes via the first router."""
    lab.run("host", ["ip", "route", "add", "default", "via", lab.router4(1)], check=True)
    lab.run("host", ["ip", "-6", "route", "add", "default", "via", lab.router6(1)], check=True)


@contextmanager
def resolver(lab) -> Iterator[None]:
    """The lab's DNS server in `dst`, answering on both families until the block ends."""
    proc = subprocess.Popen(lab.exec_argv("dst", [sys.executable, "-m",
                                                  "rawtools.testing.dnsserver"]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield
    finally:
        proc.kill()
        proc.communicate()


def doctor(lab, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    """Run `rawtools doctor --json ARGS` in the host; (exit code, JSON lines, stderr)."""
    r = lab.run("host", rawtools_argv("doctor", "--json", *args), timeout=120)
    assert "Traceback" not in r.stderr, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    validate(lines)
    return r.returncode, lines, r.stderr


def validate(lines: list[dict[str, Any]]) -> None:
    """Keys and types of every line: checks first, then one summary that repeats them."""
    assert lines and lines[-1]["type"] == "summary"
    for obj in lines:
        keys = CHECK_KEYS if obj["type"] == "check" else SUMMARY_KEYS
        assert set(obj) == set(keys), obj
        for k, t in keys.items():
            assert isinstance(obj[k], t), (k, obj)
        assert obj["schema"] == "rawtools/1" and obj["tool"] == "doctor"
        if obj["type"] == "check":
            assert obj["verdict"] in ("ok", "warn", "fail")
            assert obj["name"] in ("interfaces", "gateway", "dns", "path", "mtu")
    checks, summary = lines[:-1], lines[-1]
    assert all(c["type"] == "check" for c in checks)
    assert summary["checks"] == [{k: v for k, v in c.items()
                                  if k not in ("schema", "tool", "type")} for c in checks]
    for v in ("ok", "warn", "fail"):
        assert summary[v] == sum(c["verdict"] == v for c in checks)


def by_name(lines: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [c for c in lines[:-1] if c["name"] == name]


def iputils_df(lab, dst: str, size: int) -> subprocess.CompletedProcess[str]:
    """iputils ping with DF set (`-M do`: this iputils has no `-M probe`).

    `do` honours the path MTU the kernel cached from doctor's probes: too big
    a size is then refused locally ("message too long, mtu=1400") rather than
    by the router ("Frag needed and DF set (mtu = 1400)"); both name the MTU.
    """
    if shutil.which("ping") is None:
        pytest.skip("iputils-ping not installed")
    return lab.run("host", ["ping", "-n", "-c", "1", "-W", "1", "-M", "do", "-s", str(size),
                            dst], timeout=30)


@pytest.mark.parametrize("family", [4, 6])
def test_a_healthy_lab_passes_every_check(make_lab, family):
    lab = make_lab(2)
    with_default_routes(lab)
    dst = lab.dst4 if family == 4 else lab.dst6
    with resolver(lab):
        code, lines, err = doctor(lab, "--dns", lab.dst4, "--dns", lab.dst6, dst)
    assert code == 0, (lines, err)
    assert [c["verdict"] for c in lines[:-1]] == ["ok"] * (len(lines) - 1), lines
    assert [c["name"] for c in lines[:-1]] == ["interfaces", "gateway", "gateway", "dns", "dns",
                                               "path", "mtu"]
    assert lines[-1]["passed"] is True and lines[-1]["host"] == dst
    iface = by_name(lines, "interfaces")[0]["details"]
    assert iface["up"] == [lab.host_if]
    assert f"{lab.host4}/24" in iface["addresses"][lab.host_if]
    gws = [c["details"]["gateway"] for c in by_name(lines, "gateway")]
    assert gws == [lab.router4(1), lab.router6(1)]
    assert [c["details"]["server"] for c in by_name(lines, "dns")] == [lab.dst4, lab.dst6]
    assert all(c["details"]["rcode"] == "NOERROR" for c in by_name(lines, "dns"))
    path = by_name(lines, "path")[0]["details"]
    assert path["reached"] and path["hops"] == 3  # two routers, then the destination
    mtu = by_name(lines, "mtu")[0]["details"]
    assert mtu["pmtu"] == 1500 == mtu["device_mtu"]
    overhead = 28 if family == 4 else 48
    assert iputils_df(lab, dst, 1500 - overhead).returncode == 0  # the oracle agrees


def test_a_silenced_router_is_named_on_the_path(make_lab):
    lab = make_lab(3)
    with_default_routes(lab)
    lab.silence(2)
    code, lines, _ = doctor(lab, "--check", "path", lab.dst4)
    path = by_name(lines, "path")[0]
    # The destination is still reached: a router that sends no time-exceeded is a
    # policy to know about, not a broken path; it passes unless --strict.
    assert path["verdict"] == "warn" and path["details"]["silent"] == [2]
    assert "hop 2" in path["evidence"] and code == 0
    code, lines, _ = doctor(lab, "--check", "path", "--strict", lab.dst4)
    assert code == 1 and lines[-1]["passed"] is False


def test_a_destination_that_drops_everything_fails_the_path_after_the_last_router(make_lab):
    lab = make_lab(2)
    lab.firewall_dst()
    code, lines, _ = doctor(lab, "--check", "path", "--check", "mtu", lab.dst4)
    assert code == 1
    path = by_name(lines, "path")[0]
    assert path["verdict"] == "fail" and path["details"]["failed_hop"] == 3
    assert lab.router4(2) in path["evidence"]  # the last hop that answered is named
    assert by_name(lines, "mtu")[0]["verdict"] == "fail"


def test_a_firewalled_resolver_fails_the_dns_check_alone(make_lab):
    lab = make_lab(1)
    with_default_routes(lab)
    lab.nft("dst", """
table inet rtlab_dns {
  chain in { type filter hook input priority 0; policy accept;
    udp dport 53 drop
  }
}
""")
    with resolver(lab):
        code, lines, _ = doctor(lab, "--dns", lab.dst4, "--dns", lab.dst6, "-w", "0.5")
    assert code == 1
    dns = by_name(lines, "dns")
    assert [c["verdict"] for c in dns] == ["fail", "fail"]
    assert all(c["details"]["rcode"] is None and c["details"]["tries"] == 2 for c in dns)
    assert all("no answer" in c["evidence"] for c in dns)
    others = [c["verdict"] for c in lines[:-1] if c["name"] != "dns"]
    assert others == ["ok"] * len(others)


def test_a_resolver_that_refuses_fails_with_its_rcode(make_lab):
    lab = make_lab(0)
    proc = subprocess.Popen(lab.exec_argv("dst", [sys.executable, "-m",
                                                  "rawtools.testing.dnsserver", "--rcode", "5"]),
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        code, lines, _ = doctor(lab, "--check", "dns", "--dns", lab.dst4)
    finally:
        proc.kill()
        proc.communicate()
    assert code == 1
    (dns,) = by_name(lines, "dns")
    assert dns["verdict"] == "fail" and dns["details"]["rcode"] == "REFUSED"


def test_a_narrow_link_gives_its_mtu_as_the_path_mtu(make_lab):
    narrow = 1400
    lab = make_lab(3, mtu={1: narrow})
    code, lines, _ = doctor(lab, "--check", "mtu", lab.dst4)
    (mtu,) = by_name(lines, "mtu")
    assert mtu["verdict"] == "warn" and code == 0
    assert mtu["details"]["pmtu"] == narrow and mtu["details"]["device_mtu"] == 1500
    # r1 forwards onto the narrow link: it is the one that says so.
    assert mtu["details"]["told_by"] == [{"from": lab.router4(1), "mtu": narrow}]
    assert not mtu["details"]["black_hole"]
    # iputils, with DF: the largest echo that fits gets through, one byte more does not.
    assert iputils_df(lab, lab.dst4, narrow - 28).returncode == 0
    too_big = iputils_df(lab, lab.dst4, narrow - 27)
    said = (too_big.stdout + too_big.stderr).replace(" ", "")
    assert too_big.returncode != 0 and f"mtu={narrow}" in said, said
    assert doctor(lab, "--check", "mtu", "--strict", lab.dst4)[0] == 1


def test_ping_dont_fragment_reports_the_narrow_links_mtu(make_lab):
    """The ping option doctor measures with, seen from the API: the error carries the MTU."""
    lab = make_lab(2, mtu={2: 1280})
    code = ("import json, sys, rawtools\n"
            "r = rawtools.ping(sys.argv[1], count=1, timeout=1, size=1300,"
            " dont_fragment=True)\n"
            "print(json.dumps([[e.src, e.mtu] for e in r.targets[0].errors_seen]))\n")
    r = lab.run("host", [sys.executable, "-c", code, lab.dst6], timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [[lab.router6(2), 1280]]
    r = lab.run("host", rawtools_argv("ping", "-c", "1", "-W", "1", "-M", "probe", "-s", "1300",
                                      "-n", lab.dst4), timeout=60)
    assert r.returncode == 1 and "mtu = 1280" in r.stdout, r.stdout


def test_no_default_route_fails_the_gateway_check(make_lab):
    lab = make_lab(1)  # the lab routes its own networks only: no default route
    code, lines, _ = doctor(lab, "--check", "gateway", "--check", "interfaces")
    assert code == 1
    (gw,) = by_name(lines, "gateway")
    assert gw["verdict"] == "fail" and "no default route" in gw["evidence"]
    assert by_name(lines, "interfaces")[0]["verdict"] == "ok"


def test_every_check_works_after_the_first_gives_up_root(make_lab):
    """Started as sudo starts it (SUDO_UID of nobody): the first ping drops root.

    Every later check then runs as nobody, with a datagram ICMP socket and
    an interpreter whose files may be unreadable, so everything doctor needs
    must already be imported; the MTU check's frag-needed then arrives on the
    error queue rather than on a raw socket.
    """
    lab = make_lab(2, mtu={1: 1400})
    with_default_routes(lab)
    env = dict(os.environ, SUDO_UID="65534", SUDO_GID="65534")
    with resolver(lab):
        r = lab.run("host", rawtools_argv("doctor", "--json", "--dns", lab.dst4, lab.dst4),
                    timeout=120, env=env)
    assert "Traceback" not in r.stderr, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    validate(lines)
    verdicts = {c["name"]: c["verdict"] for c in lines[:-1]}
    assert verdicts == {"interfaces": "ok", "gateway": "ok", "dns": "ok", "path": "ok",
                        "mtu": "warn"}, lines
    assert by_name(lines, "mtu")[0]["details"]["pmtu"] == 1400


def test_a_link_local_ipv6_gateway_is_pinged_on_its_link(make_lab):
    """Router advertisements give most IPv6 hosts a gateway like fe80::1 dev eth0."""
    lab = make_lab(1)
    shown = lab.run("r1", ["ip", "-6", "-o", "addr", "show", "dev", lab.ifname(0, "right"),
                           "scope", "link"], check=True).stdout
    ll = shown.split()[3].split("/")[0]
    lab.run("host", ["ip", "-6", "route", "add", "default", "via", ll, "dev", lab.host_if],
            check=True)
    code, lines, _ = doctor(lab, "--check", "gateway")
    (gw,) = by_name(lines, "gateway")
    assert code == 0 and gw["verdict"] == "ok", gw
    assert gw["details"]["gateway"] == ll and gw["details"]["received"] == 3


def test_a_router_that_swallows_frag_needed_is_a_pmtu_black_hole(make_lab):
    lab = make_lab(2, mtu={1: 1400})
    lab.nft("r1", """
table ip rtlab_blackhole {
  chain out { type filter hook output priority 0; policy accept;
    icmp type destination-unreachable icmp code frag-needed drop
  }
}
""")
    code, lines, _ = doctor(lab, "--check", "mtu", "-w", "0.5", lab.dst4)
    (mtu,) = by_name(lines, "mtu")
    assert code == 1 and mtu["verdict"] == "fail" and mtu["details"]["black_hole"]
    assert mtu["details"]["pmtu"] == 1400 and mtu["details"]["told_by"] == []
    assert mtu["details"]["tried"][0] == 1500 and "black hole" in mtu["evidence"]


def test_an_unreachable_answer_names_the_hop_that_sent_it(make_lab):
    lab = make_lab(2)
    lab.unreachable_from_last("198.18.50.0/24")
    code, lines, _ = doctor(lab, "--check", "path", "198.18.50.1")
    (path,) = by_name(lines, "path")
    assert code == 1 and path["verdict"] == "fail" and path["details"]["failed_hop"] == 2
    assert lab.router4(2) in path["evidence"] and "!H" in path["evidence"]
