"""doctor's pieces without a network: /proc route tables, resolv.conf, DNS messages, verdicts."""

from __future__ import annotations

import ipaddress

import pytest

import rawtools
from rawtools.testing.dnsserver import answer
from rawtools.tools.doctor.cli import line
from rawtools.tools.doctor.dnsquery import build_query, parse_answer
from rawtools.tools.doctor.report import Check, DoctorResult
from rawtools.tools.doctor.resolvconf import nameservers
from rawtools.tools.doctor.routes import default_routes, parse_route4, parse_route6, route_to

# As this VM's kernel wrote them: a default via 192.0.2.1, an on-link /24, a
# reject route, and IPv6's kernel-owned unreachable default on lo.
ROUTE4 = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth1\t00000000\t050200C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
lo\t0012C6\t00000000\t0201\t0\t0\t0\t0000FFFF\t0\t0\t0
"""
ROUTE6 = (
    "20010db8000000000000000000000000 40 00000000000000000000000000000000 00 "
    "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
    "fe800000000000000000000000000001 00000400 00000003 00000000 00000003     eth0\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
    "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n")


def test_proc_route_tables_give_default_gateways_and_the_way_out():
    routes = parse_route4(ROUTE4) + parse_route6(ROUTE6)
    assert len(routes) == 5  # the reject routes are no way out
    d4, d6 = default_routes(routes)
    assert (d4.gateway, d4.device, d4.metric) == ("192.0.2.1", "eth0", 100)  # lowest metric
    assert (d6.gateway, d6.device) == ("fe80::1", "eth0")
    on_link = route_to(routes, "192.0.2.77")
    assert on_link is not None and on_link.gateway is None
    assert on_link.network == ipaddress.ip_network("192.0.2.0/24")
    assert route_to(routes, "198.51.100.1") == d4
    assert route_to(routes, "2001:db8::5").network.prefixlen == 64  # type: ignore[union-attr]


def test_resolv_conf_nameservers_in_order_comments_and_junk_skipped():
    text = ("# generated\nsearch lab\nnameserver 198.18.0.53 # first\n"
            "nameserver not-an-address\n; nameserver 198.18.0.9\nnameserver fe80::1%eth0\n"
            "options edns0\nnameserver\n")
    assert nameservers(text) == ["198.18.0.53", "fe80::1%eth0"]


@pytest.mark.parametrize("name,qtype", [(".", "NS"), ("host.lab.", "A"), ("Host.Lab", "AAAA")])
def test_a_query_and_the_lab_servers_answer_match(name, qtype):
    q = build_query(0x1234, name, qtype)
    assert parse_answer(answer(q, 0) or b"", 0x1234, name) == (0, 1)
    assert parse_answer(answer(q, 5) or b"", 0x1234, name) == (5, 0)
    assert parse_answer(answer(q, 0) or b"", 0x1235, name) is None  # not our ID
    assert parse_answer(answer(q, 0) or b"", 0x1234, "other.lab") is None  # not our question
    assert parse_answer(q, 0x1234, name) is None  # a query is no answer
    assert parse_answer(b"\x12\x34\x81", 0x1234, name) is None  # truncated


def test_warnings_pass_unless_strict_and_to_dict_holds_every_check():
    checks = [Check("interfaces", "interfaces", "ok", "eth0 up"),
              Check("path", "path to h", "warn", "hop 2 silent", {"silent": [2]})]
    r = DoctorResult("h", checks)
    assert r.passed and not DoctorResult("h", checks, strict=True).passed
    assert not DoctorResult(None, [*checks, Check("dns", "resolver x", "fail", "no")]).passed
    d = r.to_dict()
    assert (d["type"], d["ok"], d["warn"], d["fail"], d["passed"]) == ("summary", 1, 1, 0, True)
    assert d["checks"][1] == {"name": "path", "subject": "path to h", "verdict": "warn",
                              "evidence": "hop 2 silent", "details": {"silent": [2]}}
    assert r.to_json().startswith('{"schema":"rawtools/1","tool":"doctor","type":"summary"')
    assert line(checks[1]) == "warn path       path to h: hop 2 silent"


def test_doctor_is_public_api():
    assert {"doctor", "DoctorResult", "Check"} <= set(rawtools.__all__)
    assert rawtools.doctor.__module__ == "rawtools.tools.doctor.api"

