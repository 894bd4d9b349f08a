"""The IP-datagram sender: what leaves is, byte for byte, the datagram we built.

IPv4 through IP_HDRINCL; IPv6 through IPV6_HDRINCL, and through the path
older kernels take (the kernel's header, set from ours by options), forced
here on a kernel that has both. tcpdump on the host's interface is the
witness; the lab's echo server in `dst` shows each datagram was delivered.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import rawtools_argv, without_privileges
from oracles import Tcpdump

pytestmark = pytest.mark.lab

SEND = """
import json, struct
from rawtools.io.ipsend import IpSender
from rawtools.wire.udp import UdpProbe

def v6(payload, tclass=0, hlim=64, zero=False):
    d = bytearray(UdpProbe(6, "2001:db8::1", "2001:db8:0:1::2", 40000, 7000, payload,
                           ttl=hlim, zero_checksum=zero).datagram())
    d[0:4] = struct.pack("!I", 6 << 28 | tclass << 20)
    return bytes(d)

sent, modes = [], {}
s4 = IpSender(4)
d4 = UdpProbe(4, "198.18.0.1", "198.18.1.2", 40000, 7000, b"four", ident=0x4242, ttl=9).datagram()
s4.send(d4)
sent.append(d4)
for name, hdrincl, d in (("hdrincl", None, v6(b"six, ours", 0x28, 7)),
                         ("options", False, v6(b"six, options", 0x28, 7)),
                         ("options-zero", False, v6(b"six, zero", hlim=5, zero=True))):
    s = IpSender(6, hdrincl=hdrincl)
    modes[name] = s.mode
    s.send(d)
    sent.append(d)
    s.close()
print(json.dumps({"sent": [d.hex() for d in sent], "modes": modes}))
"""


def test_what_leaves_is_the_datagram_we_built(make_lab, tmp_path):
    lab = make_lab(1)
    servers = [subprocess.Popen(lab.exec_argv("dst", [sys.executable, "-m",
                                                      "rawtools.testing.udpserver", "--port",
                                                      "7000", *fam]),
                                stdout=subprocess.PIPE, text=True)
               for fam in ([], ["--family", "6"])]
    try:
        for s in servers:
            assert s.stdout.readline() == "ready\n"
        with Tcpdump(lab, "host", lab.host_if, tmp_path / "sent.pcap", "dst port 7000") as cap:
            r = lab.run("host", [sys.executable, "-c", SEND], timeout=30)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["modes"] == {"hdrincl": "hdrincl", "options": "options",
                                "options-zero": "options"}
        sent = [bytes.fromhex(h) for h in out["sent"]]
        assert [p for _ts, p in cap.datagrams()] == sent
        # tcpdump's reading of the forced-options datagrams: traffic class, hop limit, no sum.
        said = cap.verdicts()
        assert "class 0x28" in said[2] and "hlim 7" in said[2]
        assert "hlim 5" in said[3] and "[bad udp cksum 0x0000" in said[3]
        got4 = servers[0].stdout.readline().split()
        assert got4[0] == "198.18.0.1.40000" and bytes.fromhex(got4[2]) == b"four"
        got6 = servers[1].stdout.readline().split()
        assert bytes.fromhex(got6[2]) == b"six, ours"
        assert bytes.fromhex(servers[1].stdout.readline().split()[2]) == b"six, options"
    finally:
        for s in servers:
            s.kill()
            s.wait()


def test_without_cap_net_raw_the_sender_is_refused_in_one_line(make_lab):
    lab = make_lab(0)
    code = "from rawtools.io.ipsend import IpSender\nIpSender(6)\n"
    r = lab.run("host", without_privileges([sys.executable, "-c", code]))
    assert r.returncode != 0 and "PermissionNeeded: a raw IP socket needs root or CAP_NET_RAW" \
        in r.stderr
    cli = lab.run("host", without_privileges(rawtools_argv("udpcksum", "-6", lab.dst6, "53")))
    assert (cli.returncode, cli.stdout) == (2, "")
    assert cli.stderr.splitlines() == ["rawtools udpcksum: a raw IP socket needs root or "
                                       "CAP_NET_RAW (run with sudo)"]
