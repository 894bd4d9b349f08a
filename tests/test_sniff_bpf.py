"""BPF filters: `rawtools sniff -r FILE EXPR` keeps exactly the packets tcpdump keeps.

The filter is compiled and run by libpcap in both programs, but through
different paths here (pcapy-ng's next_batch or dispatch, two libpcap
versions), so the counts are compared on real captures of several link
types and on a generated one with VLAN tags and IPv6.
"""

from __future__ import annotations

import shutil
import subprocess

import dpkt
import pytest
from conftest import CORPUS, rawtools_argv
from test_capture import T0, mixed, write_pcap

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump")

CORPUS_FILES = [
    "mptcp-v0.pcap",  # Ethernet, TCP options
    "ptp_ethernet.pcap",
    "babel_rfc6126bis.pcap",  # IPv6 multicast UDP
    "various_gre.pcap",
    "ipx.pcap",  # neither IPv4 nor IPv6
    "bgp-4byte-asn.pcap",
    "forces2.pcap",  # LINUX_SLL
    "tcp-handshake-nano.pcap",  # LINUX_SLL, nanosecond pcap
    "babel_rtt.pcap",  # DLT_RAW
    "dns-badcookie.pcap",  # NULL
    "bgp-enhanced-route-refresh-subtype.pcapng",
]

EXPRESSIONS = [
    "ip",
    "ip6",
    "tcp",
    "udp",
    "icmp or icmp6",
    "udp port 53 or tcp port 179",
    "tcp[tcpflags] & tcp-syn != 0",
    "net 198.18.0.0/15 or net 2001:db8::/32",
    "greater 200",
    "not ip and not ip6",
    "vlan and udp",
    "ether broadcast",
]


def generated(path) -> str:
    """Mixed IPv4 traffic plus IPv6 and 802.1Q-tagged frames."""
    pkts = mixed(30)
    for i in range(10):
        udp = dpkt.udp.UDP(sport=1000 + i, dport=53, data=b"v6" * 10)
        udp.ulen = len(udp)
        ip6 = dpkt.ip6.IP6(src=b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\x01",
                           dst=b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\x02", nxt=17, hlim=64,
                           data=udp, plen=len(udp))
        eth = dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=0x86DD, data=ip6)
        pkts.append((T0 + 10**9 + i, bytes(eth)))
    for i in range(5):
        _, frame = mixed(3)[i % 3]
        tagged = frame[:12] + b"\x81\x00\x00\x05" + frame[12:]
        pkts.append((T0 + 2 * 10**9 + i, tagged))
    return str(write_pcap(path, pkts))


def _files(tmp_path_factory) -> list[str]:
    out = [str(CORPUS / f) for f in CORPUS_FILES]
    return [*out, generated(tmp_path_factory.mktemp("bpf") / "gen.pcap")]


@pytest.fixture(scope="module")
def capture_files(tmp_path_factory) -> list[str]:
    return _files(tmp_path_factory)


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_filter_counts_match_tcpdump(capture_files, expr):
    assert len(capture_files) > 5  # the corpus must be there in CI
    for f in capture_files:
        ref = subprocess.run(["tcpdump", "--count", "-r", f, expr], capture_output=True,
                             text=True, timeout=60)
        ours = subprocess.run(rawtools_argv("sniff", "-n", "-r", f, expr),
                              capture_output=True, text=True, timeout=120)
        if ref.returncode != 0:
            # tcpdump refused the filter for this link type: so must we, in one line.
            assert ours.returncode == 2, (f, expr, ref.stderr)
            assert "Traceback" not in ours.stderr
            continue
        want = int(ref.stdout.split()[0])
        assert ours.returncode == 0, (f, expr, ours.stderr)
        # One line per packet, but for the hex of what is not decoded (tab-indented, as
        # tcpdump's continuation lines are).
        lines = [ln for ln in ours.stdout.splitlines() if not ln.startswith(("\t", " "))]
        assert len(lines) == want, (f, expr)
