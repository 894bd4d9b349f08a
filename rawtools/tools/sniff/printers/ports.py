"""Which printer a UDP datagram or TCP segment gets, by port, in tcpdump's order.

tcpdump tries its printers one after the other, each on the source or
destination port (print-udp.c, print-tcp.c), so a datagram from port 123 to
port 514 is NTP there and must be NTP here. Each table gives a port its
place in that order and its printer; None stands for a printer tcpdump has
and this decoder does not (yet), which still outranks the ones after it.
The ports of DNS are handled before these tables by the transports.
"""

from __future__ import annotations

from collections.abc import Callable

from rawtools.tools.sniff import dns
from rawtools.tools.sniff.printers import (
    autorp,
    babel,
    bcm_li,
    bfd,
    bootp,
    dhcp6,
    geneve,
    hncp,
    hsrp,
    isakmp,
    krb,
    l2tp,
    ldp,
    lisp,
    lmp,
    lspping,
    ntp,
    openflow,
    otv,
    pptp,
    ptp,
    radius,
    resp,
    rip,
    rpki_rtr,
    sflow,
    snmp,
    someip,
    ssh,
    syslog,
    telnet,
    text,
    tftp,
    vqp,
    vxlan,
)

Printer = Callable[[bytes, int], tuple[str, bool]]
# (place in tcpdump's order, printer, the one port tcpdump looks at: _DST, _SRC, or 0 for both)
Entry = tuple[int, Printer | None, int]
# In an order list, first: the ports after it count as destination (source) ports only.
_DST, _SRC = -1, -2


def _table(order: list[tuple[tuple[int, ...], Printer | None]]) -> dict[int, Entry]:
    table: dict[int, Entry] = {}
    for rank, (ports, printer) in enumerate(order):
        side = ports[0] if ports and ports[0] in (_DST, _SRC) else 0
        for port in ports[1:] if side else ports:
            table.setdefault(port, (rank, printer, side))
    return table


# print-udp.c's chain after DNS (which is the transports' own), in the order tcpdump
# 4.99 follows, measured port against port with the same datagram on both sides
# (tests/test_sniff_ports.py): timed and TFTP before BOOTP, ISAKMP and SNMP before
# NTP and Kerberos, BCM-LI (by its source port) before BFD, syslog, the tunnels (LISP
# and VXLAN-GPE after Geneve) and PTP near the end, SOME/IP after it. NetBIOS (137,
# 138) is not in Debian's build: it never wins.
UDP: dict[int, Entry] = _table([
    ((525,), None), ((69,), tftp.tftp), ((67, 68), bootp.bootp), ((520,), rip.rip), ((654,), None),
    ((500,), isakmp.isakmp), ((4500,), isakmp.rfc3948), ((7500, 8500), isakmp.isakmp),
    ((161, 162), snmp.snmp), ((123,), ntp.ntp), ((88, 750), krb.krb), ((1701,), l2tp.l2tp),
    ((2103, 2104), None), (tuple(range(7000, 7010)), None), ((521,), None),
    ((546, 547), dhcp6.dhcp6), ((5359,), None), ((6696, 6697), babel.babel),
    ((hncp.PORT,), hncp.hncp),
    ((autorp.PORT,), autorp.autorp), ((1645, 1812, 1646, 1813, 1700, 3799), radius.radius),
    ((_DST, 1985), hsrp.hsrp), ((921,), None), ((646,), ldp.ldp), ((698,), None),
    ((3503,), lspping.lspping), ((_SRC, bcm_li.PORT), bcm_li.bcm_li),
    *(((_DST, port), bfd.for_port(port)) for port in bfd.PORTS),
    ((lmp.PORT,), lmp.lmp), ((vqp.PORT,), vqp.vqp), ((6343,), sflow.sflow), ((12222,), None),
    ((5060,), None),
    ((514,), syslog.syslog), ((8472,), otv.otv), ((4789,), vxlan.vxlan),
    ((6081,), geneve.geneve), ((lisp.PORT,), lisp.lisp), ((4790,), None), ((319, 320), ptp.ptp),
    ((someip.PORT,), someip.someip), ((137,), None), ((138,), None),
])


def dns_over_tcp(p: bytes, length: int) -> tuple[str, bool]:
    """DNS over TCP's summary (the per-packet walk calls `dns.over_tcp` itself, with the
    -v and JSON arguments this table's signature has no room for)."""
    return dns.over_tcp(p, length)


# print-tcp.c's chain up to LDP.
TCP: dict[int, Entry] = _table([
    ((23,), telnet.telnet), ((25,), None), ((43,), None), ((179,), text.bgp), ((1723,), pptp.pptp),
    ((resp.PORT,), resp.resp), ((22,), ssh.ssh), ((139,), None), ((445,), None), ((10288,), None),
    ((6633, 6653), openflow.openflow), ((21,), None), ((80, 8080), text.http),
    ((554, 8554), text.rtsp), ((53,), dns_over_tcp), ((639,), None),
    ((rpki_rtr.PORT,), rpki_rtr.rpki_rtr), ((646,), ldp.ldp),
])
# TCP printers whose text tcpdump puts right after the length, with no `: ` between.
_GLUED = frozenset({ldp.ldp, rpki_rtr.rpki_rtr})
# Printers after which the decoder prints an encapsulated frame (the fast loop leaves them).
TUNNELS = frozenset({vxlan.vxlan, otv.otv})
# Printers after which the decoder prints a packet carried inside: the tunnels' frames,
# L2TP's PPP and Geneve's payload; their ports' datagrams can hold TCP, whose state is
# the decoder's.
INNER = TUNNELS | {l2tp.l2tp, geneve.geneve}
TUNNEL_PORTS = frozenset(port for port, entry in UDP.items() if entry[1] in INNER)


def after_length(app: Printer, text: str) -> str:
    """What a TCP segment's line shows after its length for the text of printer `app`.

    `: ` and the text, as a rule; a printer that finds nothing to say (SSH's
    encrypted segments) returns "", and one whose text is only a mark (SSH's
    ` [|ssh]`, cut before it could tell) starts it with the space it needs.
    LDP's and RPKI-RTR's text follows the length directly (their tcpdump
    printers add no separator; RPKI-RTR's starts with its own comma).
    """
    return ": " + text if text and text[0] != " " and app not in _GLUED else text


def printer(table: dict[int, Entry], sport: int, dport: int) -> Printer | None:
    """The printer tcpdump would use for these ports (None: none, or none here yet)."""
    a, b = table.get(sport), table.get(dport)
    if a is not None and a[2] == _DST:
        a = None  # a printer tcpdump picks by the destination port only
    if b is not None and b[2] == _SRC:
        b = None  # and one it picks by the source port only
    if a is None:
        return b[1] if b is not None else None
    if b is None or a[0] <= b[0]:
        return a[1]
    return b[1]
