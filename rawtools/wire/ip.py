"""IPv4 and IPv6 headers around a payload, for what the kernel hides from us.

Datagram and raw ICMPv6 sockets hand over the ICMP message without its IP
header, and the error queue hands over our own datagram plus a few numbers.
Wrapping them back into IP datagrams lets one parser, one recorder (DLT_RAW
pcap) and one replay path serve every socket type.
"""

import socket

import dpkt


def build_ipv4(src: str, dst: str, proto: int, ttl: int, payload: bytes, ident: int = 0) -> bytes:
    """An IPv4 datagram with a correct header checksum, DF clear, no options."""
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=proto, ttl=ttl,
                    id=ident, data=payload)
    ip.len = 20 + len(payload)
    return bytes(ip)


def build_ipv6(src: str, dst: str, nxt: int, hlim: int, payload: bytes) -> bytes:
    """An IPv6 datagram with no extension headers."""
    ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, src),
                       dst=socket.inet_pton(socket.AF_INET6, dst), nxt=nxt, hlim=hlim,
                       plen=len(payload))
    return ip6.pack_hdr() + payload


def build_ip(src: str, dst: str, proto: int, ttl: int, payload: bytes) -> bytes:
    """IPv4 or IPv6 by the form of the addresses."""
    if ":" in src:
        return build_ipv6(src, dst, proto, ttl, payload)
    return build_ipv4(src, dst, proto, ttl, payload)
