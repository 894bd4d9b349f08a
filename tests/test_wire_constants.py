"""Every protocol number in rawtools.wire against a source that did not come from us.

A wrong constant (an ICMP code one off, an EtherType mistyped) would make a
printer name the wrong thing or a matcher miss answers, and unit tests built
on the same constant cannot see it. The oracles here are the Linux kernel's
own UAPI headers (linux-libc-dev, installed with gcc), the socket module,
netbase's copies of IANA's registries, and dpkt's independent tables; a
constant with none of those is named in NO_ORACLE with the reason, and a new
constant must join one list or the other.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import dpkt.ip
import dpkt.pcap
import pytest

from rawtools.wire import icmp, icmpext, ip, link

INCLUDE = Path("/usr/include/linux")


def header_defines(name: str) -> dict[str, int]:
    """`#define NAME 123` (or 0x7b) lines and `NAME = 1,` enum members of a UAPI header."""
    text = (INCLUDE / name).read_text()
    return {m[1] or m[3]: int(m[2] or m[4], 0) for m in re.finditer(
        r"^#define\s+(\w+)\s+(0x[0-9A-Fa-f]+|\d+)\b|^\s+(\w+)\s*=\s*(0x[0-9A-Fa-f]+|\d+)\s*,",
        text, re.MULTILINE)}


def _oracles() -> dict[str, tuple[str, object]]:
    """rawtools name -> (where the value comes from, the value there)."""
    icmp4 = header_defines("icmp.h")
    icmp6 = header_defines("icmpv6.h")
    eth = header_defines("if_ether.h")
    in4 = header_defines("in.h")
    in6 = header_defines("in6.h")
    pairs: dict[str, tuple[str, object]] = {}

    def take(table: dict[str, int], where: str, names: dict[str, str]) -> None:
        for ours, theirs in names.items():
            pairs[ours] = (f"{where} {theirs}", table[theirs])

    take(icmp4, "linux/icmp.h", {
        "ICMP_ECHOREPLY": "ICMP_ECHOREPLY", "ICMP_UNREACH": "ICMP_DEST_UNREACH",
        "ICMP_SOURCEQUENCH": "ICMP_SOURCE_QUENCH", "ICMP_REDIRECT": "ICMP_REDIRECT",
        "ICMP_ECHO": "ICMP_ECHO", "ICMP_TIMXCEED": "ICMP_TIME_EXCEEDED",
        "ICMP_PARAMPROB": "ICMP_PARAMETERPROB", "ICMP_TSTAMP": "ICMP_TIMESTAMP",
        "ICMP_TSTAMPREPLY": "ICMP_TIMESTAMPREPLY", "ICMP_MASKREPLY": "ICMP_ADDRESSREPLY",
        "ICMP_UNREACH_NET": "ICMP_NET_UNREACH", "ICMP_UNREACH_HOST": "ICMP_HOST_UNREACH",
        "ICMP_UNREACH_PROTOCOL": "ICMP_PROT_UNREACH", "ICMP_UNREACH_PORT": "ICMP_PORT_UNREACH",
        "ICMP_UNREACH_NEEDFRAG": "ICMP_FRAG_NEEDED", "ICMP_UNREACH_SRCFAIL": "ICMP_SR_FAILED",
        "ICMP_UNREACH_NET_UNKNOWN": "ICMP_NET_UNKNOWN",
        "ICMP_UNREACH_HOST_UNKNOWN": "ICMP_HOST_UNKNOWN",
        "ICMP_UNREACH_ISOLATED": "ICMP_HOST_ISOLATED", "ICMP_UNREACH_NET_PROHIB": "ICMP_NET_ANO",
        "ICMP_UNREACH_HOST_PROHIB": "ICMP_HOST_ANO", "ICMP_UNREACH_TOSNET": "ICMP_NET_UNR_TOS",
        "ICMP_UNREACH_TOSHOST": "ICMP_HOST_UNR_TOS",
        "ICMP_UNREACH_FILTER_PROHIB": "ICMP_PKT_FILTERED",
        "ICMP_UNREACH_HOST_PRECEDENCE": "ICMP_PREC_VIOLATION",
        "ICMP_UNREACH_PRECEDENCE_CUTOFF": "ICMP_PREC_CUTOFF",
        "ICMP_TIMXCEED_INTRANS": "ICMP_EXC_TTL", "ICMP_TIMXCEED_REASS": "ICMP_EXC_FRAGTIME",
    })
    take(icmp6, "linux/icmpv6.h", {
        "ICMP6_UNREACH": "ICMPV6_DEST_UNREACH", "ICMP6_PACKET_TOO_BIG": "ICMPV6_PKT_TOOBIG",
        "ICMP6_TIME_EXCEEDED": "ICMPV6_TIME_EXCEED", "ICMP6_PARAM_PROB": "ICMPV6_PARAMPROB",
        "ICMP6_ECHO": "ICMPV6_ECHO_REQUEST", "ICMP6_ECHOREPLY": "ICMPV6_ECHO_REPLY",
        "ICMP6_MLD_QUERY": "ICMPV6_MGM_QUERY", "ICMP6_MLDV2_REPORT": "ICMPV6_MLD2_REPORT",
        "ICMP6_UNREACH_NOROUTE": "ICMPV6_NOROUTE", "ICMP6_UNREACH_ADMIN": "ICMPV6_ADM_PROHIBITED",
        "ICMP6_UNREACH_BEYONDSCOPE": "ICMPV6_NOT_NEIGHBOUR",
        "ICMP6_UNREACH_ADDR": "ICMPV6_ADDR_UNREACH", "ICMP6_UNREACH_NOPORT": "ICMPV6_PORT_UNREACH",
        "ICMP6_UNREACH_POLICY": "ICMPV6_POLICY_FAIL", "ICMP6_UNREACH_REJECT": "ICMPV6_REJECT_ROUTE",
        "ICMP6_TIME_EXCEED_TRANSIT": "ICMPV6_EXC_HOPLIMIT",
        "ICMP6_TIME_EXCEED_REASSEMBLY": "ICMPV6_EXC_FRAGTIME",
    })
    # Neighbour discovery (RFC 4861) is not in the UAPI header; dpkt has none either,
    # but the kernel's ndisc.h values are fixed by the RFC and glibc carries them.
    nd = header_defines("../netinet/icmp6.h")
    take(nd, "netinet/icmp6.h", {
        "ICMP6_ND_NEIGHBOR_SOLICIT": "ND_NEIGHBOR_SOLICIT",
        "ICMP6_ND_NEIGHBOR_ADVERT": "ND_NEIGHBOR_ADVERT", "ICMP6_ND_REDIRECT": "ND_REDIRECT",
    })
    take(eth, "linux/if_ether.h", {
        "ETHERTYPE_IP": "ETH_P_IP", "ETHERTYPE_ARP": "ETH_P_ARP", "ETHERTYPE_IPV6": "ETH_P_IPV6",
        "ETHERTYPE_8021Q": "ETH_P_8021Q", "ETHERTYPE_8021AD": "ETH_P_8021AD",
        "ETHERTYPE_QINQ_OLD": "ETH_P_QINQ1", "ETHERTYPE_REVARP": "ETH_P_RARP",
        "ETHERTYPE_MPLS": "ETH_P_MPLS_UC", "ETHERTYPE_MPLS_MULTI": "ETH_P_MPLS_MC",
        "ETHERTYPE_PPPOED": "ETH_P_PPP_DISC", "ETHERTYPE_PPPOES": "ETH_P_PPP_SES",
        "ETHERTYPE_EAPOL": "ETH_P_PAE", "ETHERTYPE_LLDP": "ETH_P_LLDP",
        "ETHERTYPE_MACSEC": "ETH_P_MACSEC", "ETHERTYPE_PTP": "ETH_P_1588",
        "ETHERTYPE_LOOPBACK": "ETH_P_LOOPBACK", "ETHERTYPE_SLOW": "ETH_P_SLOW",
        "ETHERTYPE_ERSPAN": "ETH_P_ERSPAN", "ETHERTYPE_NSH": "ETH_P_NSH",
        "ETHERTYPE_IPX": "ETH_P_IPX", "ETHERTYPE_ATALK": "ETH_P_ATALK",
        "ETHERTYPE_AARP": "ETH_P_AARP", "ETHERTYPE_TEB": "ETH_P_TEB",
        "ETH_P_802_3": "ETH_P_802_3", "ETH_P_802_2": "ETH_P_802_2",
    })
    take(in4 | in6, "linux/in.h+in6.h", {
        "PROTO_HOPOPTS": "IPPROTO_HOPOPTS", "PROTO_ICMP": "IPPROTO_ICMP",
        "PROTO_IGMP": "IPPROTO_IGMP", "PROTO_IPIP": "IPPROTO_IPIP", "PROTO_TCP": "IPPROTO_TCP",
        "PROTO_UDP": "IPPROTO_UDP", "PROTO_IPV6": "IPPROTO_IPV6",
        "PROTO_ROUTING": "IPPROTO_ROUTING", "PROTO_FRAGMENT": "IPPROTO_FRAGMENT",
        "PROTO_GRE": "IPPROTO_GRE", "PROTO_ESP": "IPPROTO_ESP", "PROTO_AH": "IPPROTO_AH",
        "PROTO_ICMP6": "IPPROTO_ICMPV6", "PROTO_NONE": "IPPROTO_NONE",
        "PROTO_DSTOPTS": "IPPROTO_DSTOPTS", "PROTO_PIM": "IPPROTO_PIM",
        "PROTO_SCTP": "IPPROTO_SCTP", "PROTO_MOBILITY": "IPPROTO_MH",
    })
    for ours, theirs in {"PROTO_OSPF": "IP_PROTO_OSPF", "PROTO_VRRP": "IP_PROTO_VRRP"}.items():
        pairs[ours] = (f"dpkt.ip {theirs}", getattr(dpkt.ip, theirs))
    # IANA's registries as Debian's netbase ships them (/etc/protocols, /etc/ethertypes).
    for ours, theirs in {"PROTO_HIP": "hip", "PROTO_SHIM6": "shim6"}.items():
        pairs[ours] = (f"/etc/protocols {theirs}", socket.getprotobyname(theirs))
    ethertypes = {f[0]: int(f[1], 16) for f in (
        line.split() for line in Path("/etc/ethertypes").read_text().splitlines())
        if len(f) >= 2 and not f[0].startswith("#")}
    pairs["ETHERTYPE_TRILL"] = ("/etc/ethertypes TRILL", ethertypes["TRILL"])
    for ours, theirs in {"LINKTYPE_NULL": "DLT_NULL", "LINKTYPE_ETHERNET": "DLT_EN10MB",
                         "DLT_RAW": "DLT_RAW", "LINKTYPE_LOOP": "DLT_LOOP",
                         "LINKTYPE_LINUX_SLL": "DLT_LINUX_SLL", "LINKTYPE_IPV4": "DLT_IPV4",
                         "LINKTYPE_IPV6": "DLT_IPV6", "LINKTYPE_LINUX_SLL2": "DLT_LINUX_SLL2",
                         "LINKTYPE_PPP": "DLT_PPP", "LINKTYPE_C_HDLC": "DLT_C_HDLC",
                         "LINKTYPE_SLIP": "DLT_SLIP",
                         "LINKTYPE_FRELAY": "DLT_FRELAY",
                         "LINKTYPE_ARCNET_LINUX": "DLT_ARCNET_LINUX",
                         "LINKTYPE_IEEE802_11_RADIOTAP": "DLT_IEEE802_11_RADIO",
                         "LINKTYPE_NFLOG": "DLT_NFLOG"}.items():
        pairs[ours] = (f"dpkt.pcap {theirs}", getattr(dpkt.pcap, theirs))
    for name in ("PACKET_HOST", "PACKET_BROADCAST", "PACKET_MULTICAST", "PACKET_OTHERHOST",
                 "PACKET_OUTGOING"):
        pairs[name] = (f"socket.{name}", getattr(socket, name))
    return pairs


NO_ORACLE = {
    # RFC 1144 compressed TCP/IP: in tcpdump's ethertype.h, not in any file here.
    "ETHERTYPE_TCPCOMP",
    # pcap LINKTYPE values with no DLT twin in dpkt on Linux: test_wire_link.py checks
    # them against tcpdump's header line (101) and dpkt.pcap as loaded on OpenBSD (14).
    "LINKTYPE_RAW", "DLT_RAW_OPENBSD",
    # The switch-tag link types (dpkt names none): test_wire_link.py has tcpdump name
    # each from a file's header and read a frame of each with -e.
    "LINKTYPE_DSA_TAG_BRCM", "LINKTYPE_DSA_TAG_BRCM_PREPEND", "LINKTYPE_DSA_TAG_DSA",
    "LINKTYPE_DSA_TAG_EDSA",
    # Cisco HDLC's protocol for OSI PDUs: in tcpdump's chdlc.h only;
    # tests/test_sniff_printers_corpus.py has tcpdump read the corpus's C_HDLC
    # IS-IS frames, which carry it, as OSI.
    "ETHERTYPE_OSI",
}

MODULES = (icmp, ip, link)


def _constants() -> dict[str, int]:
    out: dict[str, int] = {}
    for mod in MODULES:
        for name, value in vars(mod).items():
            if re.fullmatch(r"(ICMP6?|PROTO|ETHERTYPE|ETH_P|LINKTYPE|DLT|PACKET)_\w+", name) \
                    and type(value) is int:
                out[name] = value
    return out


ORACLES = _oracles()


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_constant_agrees_with_an_outside_source(name: str) -> None:
    where, value = ORACLES[name]
    assert _constants()[name] == value, f"{name} differs from {where}"


def test_every_constant_has_an_oracle_or_a_reason() -> None:
    assert set(_constants()) == set(ORACLES) | NO_ORACLE


def test_ip_header_lengths_are_the_fixed_headers_of_rfc_791_and_8200() -> None:
    # 5 words of 32 bits without options; 40 bytes for IPv6, always.
    assert ip.IP4_HEADER_LEN == 5 * 4
    assert ip.IP6_HEADER_LEN == 40


def test_icmp_extension_class_numbers_are_rfc_4950_and_5837() -> None:
    # RFC 4884 section 7: version 2; RFC 4950 section 7: MPLS label stack class 1;
    # RFC 5837 section 4: interface information class 2.
    assert icmpext.EXT_VERSION == 2
    assert (icmpext.CLASS_MPLS, icmpext.CLASS_INTERFACE) == (1, 2)
