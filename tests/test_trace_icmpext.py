"""RFC 4884 / 4950 / 5837 extensions decoded from literal ICMP errors."""

from __future__ import annotations

import socket
import struct

from tracesim import icmp_error

from rawtools.wire.checksum import inet_checksum
from rawtools.wire.icmpext import InterfaceInfo, MplsEntry, as_json, describe, parse_extensions
from rawtools.wire.ip import PROTO_UDP, build_ip

SRC, DST, ROUTER = "198.18.0.1", "198.18.8.2", "198.18.3.2"


def structure(*objects: bytes, checksum: bool = True) -> bytes:
    body = b"".join(objects)
    head = bytes([0x20, 0, 0, 0])
    if checksum:
        head = head[:2] + struct.pack("!H", inet_checksum(head + body))
    return head + body


def obj(class_num: int, ctype: int, data: bytes) -> bytes:
    return struct.pack("!HBB", 4 + len(data), class_num, ctype) + data


MPLS = obj(1, 1, struct.pack("!II", 16 << 12 | 5 << 9 | 0 << 8 | 1, 17 << 12 | 1 << 8 | 254))
IFACE = obj(2, 0x0F, struct.pack("!I", 7) + struct.pack("!HH", 1, 0)
            + socket.inet_aton("198.18.3.2") + bytes([8]) + b"eth0\0\0\0" + struct.pack("!I", 1500))


def te_with_extensions(ext: bytes, length_field: bool = True) -> bytes:
    quoted = build_ip(SRC, DST, PROTO_UDP, 1, struct.pack("!HHHH", 40000, 33434, 40, 0)
                      + bytes(32))
    quoted = quoted.ljust(128, b"\0")
    rest = bytes([0, 128 // 4 if length_field else 0, 0, 0])
    return icmp_error(4, ROUTER, SRC, 11, 0, quoted + ext, rest=rest)


def test_mpls_stack_and_interface_information():
    objs = parse_extensions(te_with_extensions(structure(MPLS, IFACE)))
    assert objs == [
        [MplsEntry(16, 5, False, 1), MplsEntry(17, 0, True, 254)],
        InterfaceInfo("incoming", 7, "198.18.3.2", "eth0", 1500),
    ]
    text = describe(objs)
    assert text == ("<MPLS:L=16,E=5,S=0,T=1/L=17,E=0,S=1,T=254> "
                    "<INCOMING:index=7,ip=198.18.3.2,name=eth0,mtu=1500>")
    assert as_json(objs)[1]["name"] == "eth0"


def test_old_routers_without_length_field_are_read_at_128():
    assert parse_extensions(te_with_extensions(structure(MPLS), length_field=False)) == [
        [MplsEntry(16, 5, False, 1), MplsEntry(17, 0, True, 254)]]


def test_a_bad_checksum_or_version_means_no_extensions():
    bad = bytearray(structure(MPLS))
    bad[-1] ^= 0xFF
    assert parse_extensions(te_with_extensions(bytes(bad))) is None
    assert parse_extensions(te_with_extensions(b"\x10" + structure(MPLS)[1:])) is None
    # Checksum 0 means "not computed" and is accepted.
    assert parse_extensions(te_with_extensions(structure(MPLS, checksum=False))) is not None


def test_plain_errors_and_echo_replies_have_none():
    quoted = build_ip(SRC, DST, PROTO_UDP, 1, bytes(8))
    assert parse_extensions(icmp_error(4, ROUTER, SRC, 11, 0, quoted)) is None
    assert parse_extensions(b"") is None
