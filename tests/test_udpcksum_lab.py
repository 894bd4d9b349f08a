"""rawtools udpcksum against real kernels in a namespace lab, with tcpdump as the witness.

host -> r1 -> dst, where `rawtools.testing.udpserver` answers on port 53
with checksums and on port 54 without (SO_NO_CHECK; UDP_NO_CHECK6_TX for
IPv6), and nothing listens on port 55. tcpdump on the host's interface
records what crossed it; its `-vv` verdicts and checksums summed by hand
(tests/oracles.py) are what the tool's words are held against.
"""

from __future__ import annotations

import itertools
import json
import re
import struct
import subprocess
import sys
from collections.abc import Iterator

import pytest
from conftest import rawtools_argv, without_privileges
from oracles import Tcpdump, ref_checksum, ref_pseudo, ref_sum

from rawtools.testing.lab import Lab
from rawtools.testing.udpserver import PREFIX
from rawtools.tools.udpcksum.payloads import dns_query

pytestmark = pytest.mark.lab

SERVERS = (["--port", "53"], ["--port", "54", "--no-check"],
           ["--port", "53", "--family", "6"], ["--port", "54", "--family", "6", "--no-check"])
VERDICT = re.compile(r"^UDP checksums (on|off): (0x[0-9a-f]{4}|the checksum field is 0)")


@pytest.fixture
def lab(make_lab) -> Iterator[Lab]:
    """A one-router lab with the four servers listening in `dst`."""
    lab = make_lab(1)
    procs = [subprocess.Popen(lab.exec_argv("dst", [sys.executable, "-m",
                                                    "rawtools.testing.udpserver", *a]),
                              stdout=subprocess.PIPE, text=True) for a in SERVERS]
    lab.servers = procs
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline() == "ready\n"
        yield lab
    finally:
        for p in procs:
            p.kill()
            p.wait()


def udpcksum(lab: Lab, *args: str, unprivileged: bool = False) -> subprocess.CompletedProcess:
    argv = rawtools_argv("udpcksum", *args)
    return lab.run("host", without_privileges(argv) if unprivileged else argv, timeout=60)


def replies(cap: Tcpdump, port: int) -> list[bytes]:
    """Datagrams the server sent from `port`, as captured."""
    out = []
    for _ts, pkt in cap.datagrams():
        off = 20 if pkt[0] >> 4 == 4 else 40
        if pkt[9 if off == 20 else 6] == 17 and struct.unpack_from("!H", pkt, off)[0] == port:
            out.append(pkt)
    return out


def field(pkt: bytes) -> int:
    return struct.unpack_from("!H", pkt, (20 if pkt[0] >> 4 == 4 else 40) + 6)[0]


def test_ipv4_checksums_on_off_and_no_server_as_tcpdump_sees_them(lab, tmp_path):
    with Tcpdump(lab, "host", lab.host_if, tmp_path / "v4.pcap") as cap:
        on = udpcksum(lab, lab.dst4, "domain")
        off = udpcksum(lab, lab.dst4, "54")
        none = udpcksum(lab, lab.dst4, "55")
    assert (on.returncode, off.returncode, none.returncode) == (0, 0, 1)
    assert on.stderr == off.stderr == none.stderr == ""
    (on_reply,), (off_reply,) = replies(cap, 53), replies(cap, 54)
    assert field(on_reply) == ref_checksum(on_reply)
    assert on.stdout.splitlines()[-1] == f"UDP checksums on: {field(on_reply):#06x}, valid"
    assert f"reply from {lab.dst4}.53: {len(on_reply)} bytes" in on.stdout
    assert f"ttl {on_reply[8]}," in on.stdout and on_reply[8] == 63
    assert field(off_reply) == 0
    assert off.stdout.splitlines()[-1] == "UDP checksums off: the checksum field is 0 " \
                                          "(not computed)"
    assert none.stdout.splitlines()[-1].startswith(
        f"no server on that port: Destination Port Unreachable from {lab.dst4} (")
    said = cap.verdicts()
    assert any(f"{lab.dst4}.53 >" in p and "[udp sum ok]" in p for p in said)
    assert any(f"{lab.dst4}.54 >" in p and "[no cksum]" in p for p in said)
    assert any("udp port 55 unreachable" in p for p in said)


def test_ipv6_on_no_server_and_a_zero_checksum_is_invalid(lab, tmp_path):
    with Tcpdump(lab, "host", lab.host_if, tmp_path / "v6.pcap", "ip6") as cap:
        on = udpcksum(lab, lab.dst6, "domain")
        none = udpcksum(lab, lab.dst6, "55")
        zero = udpcksum(lab, lab.dst6, "54")
    assert (on.returncode, none.returncode, zero.returncode) == (0, 1, 0)
    (on_reply,), (zero_reply,) = replies(cap, 53), replies(cap, 54)
    assert on.stdout.splitlines()[-1] == f"UDP checksums on: {ref_checksum(on_reply):#06x}, valid"
    assert "no server on that port: Destination unreachable: Port unreachable" in none.stdout
    assert field(zero_reply) == 0
    assert zero.stdout.splitlines()[-1] == ("UDP checksums off: the checksum field is 0, "
                                            "invalid in IPv6 (receivers drop such datagrams)")
    said = cap.verdicts()
    assert any(".53 >" in p and "[udp sum ok]" in p for p in said)
    assert any(".54 >" in p and f"[bad udp cksum 0x0000 -> {ref_checksum(zero_reply):#06x}!]"
               in p for p in said)


def test_transmit_offload_left_on_is_detected_and_explained(lab, tmp_path):
    """Offload on along the way back: the reply reaches us with only the pseudo-header sum."""
    for node, dev in (("dst", lab.dst_if), ("r1", lab.ifname(0, "right"))):
        lab.run(node, ["ethtool", "-K", dev, "tx", "on"], check=True)
    with Tcpdump(lab, "host", lab.host_if, tmp_path / "offload.pcap") as cap:
        v4 = udpcksum(lab, "-v", lab.dst4, "domain")
        v6 = udpcksum(lab, "-v", lab.dst6, "domain")
    assert v4.returncode == v6.returncode == 0
    said = cap.verdicts()
    for run, reply in ((v4, replies(cap, 53)[0]), (v6, replies(cap, 53)[1])):
        partial, finished = field(reply), ref_checksum(reply)
        assert partial == ref_sum(ref_pseudo(reply)) != finished
        assert any(f"[bad udp cksum {partial:#06x} -> {finished:#06x}!]" in p for p in said)
        lines = run.stdout.splitlines()
        assert f"checksum received {partial:#06x}, computed {finished:#06x}" in lines
        assert lines[-2] == (f"UDP checksums on: {partial:#06x}, unverifiable: it is the "
                             "pseudo-header sum that transmit offload starts from")
        assert lines[-1].startswith("  the sender's kernel left the checksum") \
            and lines[-1].endswith(f"finished, it would be {finished:#06x}")


def test_a_zero_checksum_probe_is_accepted_by_the_server(lab, tmp_path):
    with Tcpdump(lab, "host", lab.host_if, tmp_path / "zero.pcap") as cap:
        r = udpcksum(lab, "-0", lab.dst4, "domain")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].endswith(", checksum 0 (-0)")
    assert VERDICT.match(r.stdout.splitlines()[-1]).group(1) == "on"
    sent = [p for _ts, p in cap.datagrams() if p[12:16] == bytes([198, 18, 0, 1])]
    (probe,) = sent
    assert field(probe) == 0 and probe[28:] == dns_query("a.root-servers.net")
    (reply,) = replies(cap, 53)
    assert reply[28:] == PREFIX + probe[28:]
    said = cap.verdicts()
    assert any("198.18.0.1." in p.split(">")[0] and "[no cksum]" in p for p in said)
    log = lab.servers[0].stdout.readline().split()
    assert log[1:] == [str(len(probe) - 28), probe[28:28 + 64].hex()]


def test_silence_is_retried_with_backoff_then_no_response(lab, tmp_path):
    lab.firewall_dst("udp")
    with Tcpdump(lab, "host", lab.host_if, tmp_path / "silent.pcap", "udp") as cap:
        r = udpcksum(lab, "-w", "0.3", "-r", "2", lab.dst4, "domain")
    assert r.returncode == 1
    assert r.stdout.splitlines()[1:] == ["no reply in 0.3 s, trying again",
                                         "no reply in 0.6 s, trying again",
                                         "no response (3 tries in 2.1 s)"]
    times = [ts for ts, _ in cap.datagrams()]
    assert len(times) == 3 and len({p for _, p in cap.datagrams()}) == 1
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] == pytest.approx(0.3, abs=0.05) and gaps[1] == pytest.approx(0.6, abs=0.05)


def test_the_held_port_keeps_the_kernel_quiet_and_the_api_returns_a_result(lab, tmp_path):
    """With -l the reply comes to our chosen port, and no port unreachable answers it."""
    script = ("import json, rawtools\n"
              f"r = rawtools.udpcksum({lab.dst4!r}, 'domain', local='198.18.0.1.5353')\n"
              "print(json.dumps(r.to_dict()))\n")
    with Tcpdump(lab, "host", lab.host_if, tmp_path / "held.pcap", "ip") as cap:
        r = lab.run("host", [sys.executable, "-c", script], timeout=60)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert (d["sport"], d["outcome"], d["checksums"], d["verdict"]) == (5353, "reply", "on",
                                                                         "valid")
    assert d["device"] == lab.host_if and d["linktype"] == "EN10MB (Ethernet)"
    assert d["reply"]["ttl"] == 63 and d["tries"] == 1
    assert not [p for p in cap.verdicts() if "ICMP" in p]
    (reply,) = replies(cap, 53)
    assert struct.unpack_from("!H", reply, 22)[0] == 5353


@pytest.mark.parametrize("args,needle", [
    (["no-such-host.invalid", "domain"], "no-such-host.invalid"),
    (["-i", "nosuch0", "198.18.1.2", "domain"], "nosuch0"),
    (["-l", "198.18.77.1.5353", "198.18.1.2", "domain"], "bind 198.18.77.1 port 5353"),
])
def test_bad_input_in_a_namespace_is_one_line(lab, args, needle):
    r = udpcksum(lab, *args)
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and needle in r.stderr and "Traceback" not in r.stderr


def test_without_cap_net_raw_it_says_what_is_needed(lab):
    r = udpcksum(lab, lab.dst4, "domain", unprivileged=True)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == ("rawtools udpcksum: a raw IP socket needs root or CAP_NET_RAW "
                        "(run with sudo)\n")
