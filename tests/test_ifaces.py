"""rawtools ifaces against what iproute2 says about the same namespace."""

import json

from conftest import rawtools_argv


def test_ifaces_matches_ip_addr_in_a_lab_router(lab3):
    ours = lab3.run("r1", rawtools_argv("ifaces", "--json"))
    assert ours.returncode == 0, ours.stderr
    objs = [json.loads(x) for x in ours.stdout.splitlines()]
    assert objs[-1]["type"] == "summary"
    got = {o["name"]: o for o in objs[:-1]}
    ip = json.loads(lab3.run("r1", ["ip", "-j", "addr"]).stdout)
    assert set(got) == {i["ifname"] for i in ip}
    for link in ip:
        o = got[link["ifname"]]
        assert o["mtu"] == link["mtu"]
        assert o["index"] == link["ifindex"]
        assert ("UP" in o["flags"]) == ("UP" in link["flags"])
        want4 = {f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"]
                 if a["family"] == "inet"}
        want6 = {f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"]
                 if a["family"] == "inet6"}
        assert {f"{a['addr']}/{a['prefixlen']}" for a in o["ipv4"]} == want4
        assert {f"{a['addr'].split('%')[0]}/{a['prefixlen']}" for a in o["ipv6"]} == want6
        if link.get("address") and link["ifname"] != "lo":
            assert o["link_addr"] == link["address"]


def test_ifaces_text_and_unknown_name(lab3):
    r = lab3.run("host", rawtools_argv("ifaces", lab3.host_if))
    assert r.returncode == 0
    assert f"inet {lab3.host4}/24" in r.stdout and f"inet6 {lab3.host6}/64" in r.stdout
    bad = lab3.run("host", rawtools_argv("ifaces", "nosuch9"))
    assert bad.returncode == 2
    assert bad.stderr.strip() == "rawtools ifaces: nosuch9: no such interface"
