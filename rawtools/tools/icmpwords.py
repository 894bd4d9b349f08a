"""ICMP errors in iputils ping's words, for every tool that reports one.

ping prints them after `From ADDR icmp_seq=N`, udpcksum when an error comes
back instead of the server's answer; one wording means a user who knows
ping's lines reads the other tool's at once.
"""

from __future__ import annotations

from rawtools.wire.icmp import (
    ICMP6_PACKET_TOO_BIG,
    ICMP6_PARAM_PROB,
    ICMP6_TIME_EXCEEDED,
    ICMP6_UNREACH,
    ICMP_PARAMPROB,
    ICMP_REDIRECT,
    ICMP_SOURCEQUENCH,
    ICMP_TIMXCEED,
    ICMP_TIMXCEED_INTRANS,
    ICMP_UNREACH,
    ICMP_UNREACH_NEEDFRAG,
    Icmp,
)

_UNREACH4 = {
    0: "Destination Net Unreachable",
    1: "Destination Host Unreachable",
    2: "Destination Protocol Unreachable",
    3: "Destination Port Unreachable",
    5: "Source Route Failed",
    6: "Destination Net Unknown",
    7: "Destination Host Unknown",
    8: "Source Host Isolated",
    9: "Destination Net Prohibited",
    10: "Destination Host Prohibited",
    11: "Destination Net Unreachable for Type of Service",
    12: "Destination Host Unreachable for Type of Service",
    13: "Packet filtered",
    14: "Precedence Violation",
    15: "Precedence Cutoff",
}
_UNREACH6 = {
    0: "No route",
    1: "Administratively prohibited",
    2: "Beyond scope of source address",
    3: "Address unreachable",
    4: "Port unreachable",
    5: "Source address failed ingress/egress policy",
    6: "Reject route to destination",
}


def describe_error(icmp: Icmp) -> str:
    """iputils' wording for an ICMP error."""
    t, c = icmp.type, icmp.code
    if icmp.version == 4:
        if t == ICMP_UNREACH:
            if c == ICMP_UNREACH_NEEDFRAG:
                return f"Frag needed and DF set (mtu = {icmp.mtu})"
            return _UNREACH4.get(c, f"Dest Unreachable, Bad Code: {c}")
        if t == ICMP_TIMXCEED:
            return ("Time to live exceeded" if c == ICMP_TIMXCEED_INTRANS
                    else "Frag reassembly time exceeded")
        if t == ICMP_PARAMPROB:
            return f"Parameter problem: pointer = {icmp.pointer}"
        if t == ICMP_SOURCEQUENCH:
            return "Source Quench"
        if t == ICMP_REDIRECT:
            return "Redirect"
        return f"Bad ICMP type: {t}"
    if t == ICMP6_UNREACH:
        return "Destination unreachable: " + _UNREACH6.get(c, f"Unknown code {c}")
    if t == ICMP6_PACKET_TOO_BIG:
        return f"Packet too big: mtu={icmp.mtu}"
    if t == ICMP6_TIME_EXCEEDED:
        return "Time exceeded: " + ("Hop limit" if c == 0 else "Defragmentation failure")
    if t == ICMP6_PARAM_PROB:
        what = {0: "Wrong header field", 1: "Unknown header", 2: "Unknown option"}
        return f"Parameter problem: {what.get(c, f'code {c}')} at {icmp.pointer}"
    return f"Unknown type {t}"
