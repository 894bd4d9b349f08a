"""Captures made for the inject tests: lab addresses only, every header built by dpkt.

Nothing here may ever leave the lab's own veths, so every address is in
198.18.0.0/15 or 2001:db8::/32 and every MAC is locally administered. The
frames differ in size (up to a full 1514-byte Ethernet frame, and a
VLAN-tagged 1518), family (IPv4, IPv6, ARP) and framing (one 802.1Q tag),
so that a frame changed on its way out shows up as a byte difference.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import dpkt

SRC_MAC = bytes.fromhex("02000000aa01")
DST_MAC = bytes.fromhex("02000000bb02")
SRC4, DST4 = "198.18.200.1", "198.18.200.2"
SRC6, DST6 = "2001:db8:200::1", "2001:db8:200::2"
T0 = 1_700_000_000
LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_IEEE802_11 = 1, 101, 105


def _v4(a: str) -> bytes:
    return socket.inet_pton(socket.AF_INET, a)


def _v6(a: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, a)


def udp4(size: int, sport: int = 40000) -> bytes:
    """An IPv4 UDP datagram of `size` bytes of payload, checksums right."""
    u = dpkt.udp.UDP(sport=sport, dport=9, ulen=8 + size,
                     data=bytes(i & 0xFF for i in range(size)))
    ip = dpkt.ip.IP(src=_v4(SRC4), dst=_v4(DST4), p=dpkt.ip.IP_PROTO_UDP, ttl=64, data=u)
    return bytes(ip)


def tcp4_syn() -> bytes:
    t = dpkt.tcp.TCP(sport=40001, dport=80, seq=1000, flags=dpkt.tcp.TH_SYN, win=64240)
    return bytes(dpkt.ip.IP(src=_v4(SRC4), dst=_v4(DST4), p=dpkt.ip.IP_PROTO_TCP, data=t))


def icmp4_echo() -> bytes:
    echo = dpkt.icmp.ICMP.Echo(id=0x4242, seq=1, data=b"rawtools inject test")
    icmp = dpkt.icmp.ICMP(type=dpkt.icmp.ICMP_ECHO, data=echo)
    return bytes(dpkt.ip.IP(src=_v4(SRC4), dst=_v4(DST4), p=dpkt.ip.IP_PROTO_ICMP, data=icmp))


def udp6(size: int) -> bytes:
    u = dpkt.udp.UDP(sport=40002, dport=9, ulen=8 + size,
                     data=bytes(i & 0xFF for i in range(size)))
    ip6 = dpkt.ip6.IP6(src=_v6(SRC6), dst=_v6(DST6), nxt=dpkt.ip.IP_PROTO_UDP, hlim=64,
                       data=u)
    ip6.plen = len(u)
    return bytes(ip6)


def ether(etype: int, payload: bytes, vlan: int | None = None) -> bytes:
    if vlan is None:
        return DST_MAC + SRC_MAC + struct.pack("!H", etype) + payload
    return DST_MAC + SRC_MAC + struct.pack("!HHH", 0x8100, vlan, etype) + payload


def arp_request() -> bytes:
    arp = dpkt.arp.ARP(sha=SRC_MAC, spa=_v4(SRC4), tha=bytes(6), tpa=_v4("198.18.200.99"))
    return b"\xff" * 6 + SRC_MAC + struct.pack("!H", dpkt.ethernet.ETH_TYPE_ARP) + bytes(arp)


def mixed_frames() -> list[bytes]:
    """Ethernet frames from 42 to 1518 bytes: ARP, IPv4 (UDP, TCP, ICMP), IPv6, a VLAN tag."""
    ip4, ip6 = dpkt.ethernet.ETH_TYPE_IP, dpkt.ethernet.ETH_TYPE_IP6
    frames = [arp_request(), ether(ip4, udp4(18)), ether(ip4, tcp4_syn()),
              ether(ip4, icmp4_echo()), ether(ip6, udp6(10))]
    frames += [ether(ip4, udp4(n)) for n in (100, 500, 1000, 1472)]  # 1472: a 1514-byte frame
    frames += [ether(ip6, udp6(n)) for n in (300, 1452)]
    frames += [ether(ip4, udp4(200), vlan=100), ether(ip4, udp4(1472), vlan=100)]
    return frames


def raw_packets() -> list[bytes]:
    """IP datagrams without a link header, as a tunnel's capture holds them."""
    return [udp4(18), icmp4_echo(), udp6(40), udp4(1000), tcp4_syn()]


def write_pcap(path: Path, frames: list[bytes], linktype: int = LINKTYPE_ETHERNET,
               gap_us: int = 1000) -> Path:
    """A microsecond pcap of `frames`, `gap_us` apart."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for i, frame in enumerate(frames):
            sec, usec = divmod(i * gap_us, 1_000_000)
            f.write(struct.pack("<IIII", T0 + sec, usec, len(frame), len(frame)) + frame)
    return path
