"""`rawtools udpcksum` options: bad input is one line and exit 2, the API refuses the same.

These need no network: every value is refused before a socket is opened.
What needs one (unknown hosts, missing devices, no permission) is in
tests/test_udpcksum_lab.py, inside a namespace where no query leaves.
"""

from __future__ import annotations

import math
import subprocess

import pytest
from conftest import rawtools_argv

import rawtools
from rawtools.errors import RawtoolsError, UsageError
from rawtools.tools.udpcksum.config import parse_local, udpcksum_config
from rawtools.tools.udpcksum.payloads import DNS_ID, dns_query, ntp_request
from rawtools.tools.udpcksum.session import bpf_filter
from rawtools.wire.udp import UdpProbe

H = "198.18.1.2"


@pytest.mark.parametrize("args,needle", [
    ([H, "no-such-service-here"], "no-such-service-here: unknown service"),
    ([H, "70000"], "port"),
    ([H, "0"], "port"),
    ([H], "a host and a service are needed"),
    ([], "a host and a service are needed"),
    (["-l", "198.18.0.1", H, "53"], "-l 198.18.0.1: a port 0-65535 is needed"),
    (["-l", "host.example.53", H, "53"], "'host.example' is not a numeric address"),
    (["-l", "198.18.0.1.99999", H, "53"], "a port 0-65535"),
    (["-l", "[2001:db8::1]x", H, "53"], "-l [2001:db8::1]x"),
    (["-l", "", H, "53"], "-l ''"),
    (["-4", "-l", "[2001:db8::1]:53", H, "53"], "not an IPv4 address"),
    (["-w", "nan", H, "53"], "invalid wait (-w): 'nan'"),
    (["-w", "inf", H, "53"], "invalid wait (-w): 'inf'"),
    (["-w=-1", H, "53"], "invalid wait (-w): '-1'"),
    (["-w", "0", H, "53"], "invalid wait (-w): '0'"),
    (["-w", "1e300", H, "53"], "at most"),
    (["-w", "soon", H, "53"], "-w"),
    (["-w", "100000", "-r", "30", H, "53"], "would exceed"),
    (["-r=-1", H, "53"], "retries (-r)"),
    (["-r", "31", H, "53"], "retries (-r)"),
    (["-q", "a..b", H, "53"], "invalid query name"),
    (["-q", "x" * 64 + ".net", H, "53"], "invalid query name"),
    (["--payload", "abc", H, "53"], "even number of hex digits"),
    (["--payload", "zz", H, "53"], "even number of hex digits"),
    (["--ntp", "-q", "example.net", H, "53"], "not allowed with"),
    (["--replay", "/nonexistent/u.pcap"], "/nonexistent/u.pcap"),
    (["--replay", ""], "invalid --replay file: ''"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle):
    r = subprocess.run(rawtools_argv("udpcksum", *args), capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2, r.stdout
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1 and needle in r.stderr
    assert "Traceback" not in r.stderr


BAD_API = [
    {"wait": math.nan}, {"wait": math.inf}, {"wait": -1}, {"wait": "3"}, {"retries": -1},
    {"retries": 2.5}, {"retries": True}, {"version": 5}, {"local": "198.18.0.1"},
    {"local": 42}, {"query": ""}, {"query": 7}, {"payload": "xyz"}, {"payload": 12},
    {"payload": bytes(70000)}, {"ntp": "yes"}, {"zero": 1}, {"ntp": True, "payload": "00"},
    {"interface": ""}, {"replay": ""}, {"record": ""}, {"local": "198.18.0.1.\uff15"},
]


@pytest.mark.parametrize("kw", BAD_API, ids=lambda kw: "-".join(map(str, kw.items()))[:40])
def test_the_api_refuses_what_the_cli_refuses(kw):
    with pytest.raises(UsageError):
        rawtools.udpcksum(H, "domain", **kw)


def test_the_api_refuses_missing_or_empty_hosts_and_services():
    for host, service in (("", "53"), (H, ""), (None, "53"), (H, None), (42, "53")):
        with pytest.raises(UsageError):
            rawtools.udpcksum(host, service)
    with pytest.raises(RawtoolsError, match="unknown service"):
        rawtools.udpcksum(H, "no-such-service-here")


def test_local_takes_unp_form_and_ipv6_forms():
    assert parse_local("198.18.0.1.5353") == parse_local("198.18.0.1.5353")
    got = [(x.addr, x.port, x.version) for x in map(parse_local, [
        "198.18.0.1.5353", "[2001:db8::1]:5353", "[2001:db8::1].5353", "2001:db8::1.5353",
        "198.18.0.1.0"])]
    assert got == [("198.18.0.1", 5353, 4), ("2001:db8::1", 5353, 6), ("2001:db8::1", 5353, 6),
                   ("2001:db8::1", 5353, 6), ("198.18.0.1", 0, 4)]


def test_the_payload_follows_the_flags_and_the_port():
    dns = udpcksum_config(H, "domain")
    assert (dns.port, dns.service, dns.kind, dns.query) == (53, "domain", "dns",
                                                           "a.root-servers.net")
    assert dns.payload == dns_query("a.root-servers.net")
    assert udpcksum_config(H, "ntp").kind == "ntp" and udpcksum_config(H, 123).kind == "ntp"
    assert udpcksum_config(H, "123", query="example.net").kind == "dns"
    assert udpcksum_config(H, "9", payload="de:ad be-ef").payload == b"\xde\xad\xbe\xef"
    assert udpcksum_config(H, "9", payload=b"\x01").payload == b"\x01"
    assert udpcksum_config(H, "9", query="example.net.").query == "example.net"


def test_the_dns_query_is_unps_and_decodes_as_one():
    import dpkt

    q = dpkt.dns.DNS(dns_query("a.root-servers.net"))
    assert q.id == DNS_ID == 1234 and q.qr == 0 and q.rd == 1
    assert [(x.name, x.type, x.cls) for x in q.qd] == [("a.root-servers.net", 1, 1)]
    root = dpkt.dns.DNS(dns_query("."))
    assert root.qd[0].name == ""


def test_the_ntp_request_is_a_version_4_client_request():
    import dpkt

    n = dpkt.ntp.NTP(ntp_request())
    assert (len(ntp_request()), n.v, n.mode) == (48, 4, 3)
    assert n.transmit_time != 0


def test_the_filter_compiles_and_names_both_ends():
    import pcapy

    for probe in (UdpProbe(4, "198.18.0.1", H, 40000, 53, b""),
                  UdpProbe(6, "2001:db8::1", "2001:db8:0:1::2", 40000, 53, b"")):
        text = bpf_filter(probe)
        assert f"udp and src host {probe.dst} and src port 53" in text
        assert "dst port 40000" in text
        for linktype in (pcapy.DLT_EN10MB, pcapy.DLT_LINUX_SLL, pcapy.DLT_RAW):
            pcapy.compile(linktype, 65535, text, 1, 0)
