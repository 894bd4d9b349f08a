"""Printers checked on tcpdump's own test captures, packet by packet, against its lines.

Each case names captures of tcpdump's corpus (tests/corpus) that hold one
protocol and the class of tcpdump's line that protocol gets
(`fidelity.classify`); tcpdump reads the file in the test and every packet of
that class must get the first line tcpdump prints for it. The captures are
real traffic and the fuzzed files tcpdump keeps for its own bugs, so the
printers meet cut and lying packets here too.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import CORPUS

from rawtools.testing import fidelity

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None,
                                reason="needs tcpdump, the oracle (Debian package: tcpdump)")

# (capture, tcpdump's class for the protocol's lines)
CASES = [
    ("of10_s4810.pcap", "tcp/OpenFlow"), ("of10_p3295.pcap", "tcp/OpenFlow"),
    ("of10_7050sx_bsn.pcap", "tcp/OpenFlow"), ("of10_pf5240.pcap", "tcp/OpenFlow"),
    ("bcm-li.pcap", "BCM-LI-SHIM"),
    # Frame Relay (Cisco's encapsulation) and Cisco HDLC (OSI behind a pad byte)
    ("OSPFv3_NBMA_adjacencies.pcap", "OSPFv3"), ("ISIS_p2p_adjacency.pcap", "IS-IS"),
    ("babel_rfc6126bis.pcap", "babel"), ("babel_rtt.pcap", "babel"),
    *((f"status_code-{n}.pcap", "1.0") for n in (0, 1, 53, 107)),
    ("ipx.pcap", "IPX"), ("eapon1.pcap", "EAPOL"), ("eapon1.pcap", "EAP"),
    ("hoobr_chdlc_print.pcap", "unknown"), ("vxlan_port_8472.pcap", "OTV"),
    ("ldp-common-session.pcap", "LDP"), ("RADIUS-RFC4675.pcap", "RADIUS"),
    ("arcnet-rfc1051-arp-icmp-http.pcap", "tcp"), ("arcnet-rfc1051-arp-icmp-http.pcap", "ARP"),
    ("lspping-fec-ldp.pcap", "MPLS"), ("lspping-fec-rsvp.pcap", "LSP-PINGv1"),
    ("pgm_zmtp1.pcap", "10.0.0.45.13320"), ("LLDP_and_CDP.pcap", "LLDP"), ("DTP.pcap", "DTPv1"),
    ("nflog.pcap", "dns"), ("3560_CDP.pcap", "CDPv2"), ("LLDP_and_CDP.pcap", "CDPv2"),
    ("forces1.pcap", "sctp[ForCES"), ("forces2.pcap", "sctp[ForCES"), ("isup.pcap", "sctp"),
    ("pppoe.pcap", "PPPoE"), ("pppoes.pcap", "PPPoE"), ("pptp.pcap", "tcp/pptp"),
    ("pptp.pcap", "GREv1"), ("dccp_partial_csum_v6_simple.pcap", "DCCP"),
    ("ikev2-id-normal.pcap", "isakmp"), ("isakmp-pointer-loop.pcap", "isakmp"),
    ("isakmp-ikev1_n_print-oobr.pcap", "isakmp"), ("isakmp-various-oobr.pcap", "isakmp"),
    ("isakmp-rfc3948-oobr.pcap", "[|isakmp_rfc3948]"), ("arista_ether.pcap", "ethertype"),
    ("bigtcp-ipv6-geneve-ipv4.pcap", "[|udp]"),
]


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_every_line_of_the_protocol_is_tcpdumps(name: str, kind: str) -> None:
    path = str(CORPUS / name)
    theirs = fidelity.tcpdump_first_lines(path)
    ours = fidelity.rawtools_first_lines(path)
    assert len(ours) == len(theirs)
    mine = [(a, b) for a, b in zip(theirs, ours, strict=True) if fidelity.classify(a) == kind]
    assert mine, f"no {kind} line in {name}"
    assert [b for _, b in mine] == [a for a, _ in mine]
