"""The internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-headers.

Summing 16-bit words in ones' complement is the same as taking the whole
buffer as one big integer modulo 0xffff (because 2**16 == 1 mod 0xffff); the
C-level big-integer conversion is about six times faster than dpkt.in_cksum's
word loop, and every probe and every verified reply goes through here.
"""

import socket
import struct

_PSEUDO4 = struct.Struct("!xBH")
_PSEUDO6 = struct.Struct("!IxxxB")


def ones_sum(data: bytes) -> int:
    """Ones'-complement sum of `data` as 16-bit big-endian words (0..0xffff)."""
    if len(data) & 1:
        data += b"\0"
    n = int.from_bytes(data, "big")
    s = n % 0xFFFF
    # A non-zero buffer whose sum is a multiple of 0xffff has the ones'-complement
    # sum 0xffff ("negative zero"), not 0.
    if s == 0 and n:
        return 0xFFFF
    return s


def inet_checksum(data: bytes) -> int:
    """The checksum to store in a header whose checksum field is zero in `data`."""
    return ~ones_sum(data) & 0xFFFF


def checksum_ok(data: bytes) -> bool:
    """True when `data`, checksum field included, sums to 0xffff as it must."""
    return ones_sum(data) == 0xFFFF


def pseudo_header(src: str, dst: str, proto: int, length: int) -> bytes:
    """The pseudo-header that UDP, TCP and ICMPv6 checksums cover."""
    if ":" in src:
        return pseudo_header_raw(socket.inet_pton(socket.AF_INET6, src),
                                 socket.inet_pton(socket.AF_INET6, dst), proto, length)
    return pseudo_header_raw(socket.inet_aton(src), socket.inet_aton(dst), proto, length)


def pseudo_header_raw(src: bytes, dst: bytes, proto: int, length: int) -> bytes:
    """`pseudo_header` of addresses as they sit in the IP header (4 or 16 bytes each).

    For readers of captured packets, which hold the addresses as bytes and
    would otherwise format them only for this to parse them back.
    """
    if len(src) == 16:
        return src + dst + _PSEUDO6.pack(length, proto)
    return src + dst + _PSEUDO4.pack(proto, length)


def transport_checksum(src: str, dst: str, proto: int, segment: bytes) -> int:
    """Checksum for a UDP/TCP/ICMPv6 `segment` whose checksum field is zero."""
    return inet_checksum(pseudo_header(src, dst, proto, len(segment)) + segment)
