"""RFC 4884 / 4950 / 5837 extensions decoded from literal ICMP errors."""

from __future__ import annotations

import socket
import struct

import pytest
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


# RFC 5837 section 4.1: the C-Type's top two bits are the interface role, then two
# reserved bits, then flags for ifIndex (0x08), IP address (0x04), name (0x02), MTU (0x01).
ROLES = {0: "incoming", 1: "sub-ip", 2: "outgoing", 3: "next-hop"}


@pytest.mark.parametrize("role_bits, role", sorted(ROLES.items()))
def test_every_interface_role(role_bits, role):
    ext = structure(obj(2, role_bits << 6 | 0x01, struct.pack("!I", 9000)))
    assert parse_extensions(te_with_extensions(ext)) == [InterfaceInfo(role, mtu=9000)]


def test_an_interface_object_with_only_some_fields():
    name = bytes([12]) + b"uplink-1\0\0\0"  # length octet counts itself, padded to 4
    ext = structure(obj(2, 0x0A, struct.pack("!I", 3) + name))
    info = parse_extensions(te_with_extensions(ext))[0]
    assert info == InterfaceInfo("incoming", 3, None, "uplink-1", None)
    assert describe([info]) == "<INCOMING:index=3,name=uplink-1>"
    assert as_json([info]) == [{"class": "interface", "role": "incoming", "ifindex": 3,
                                "addr": None, "name": "uplink-1", "mtu": None}]


def test_an_ipv6_interface_address():
    addr = struct.pack("!HH", 2, 0) + socket.inet_pton(socket.AF_INET6, "2001:db8:0:3::1")
    ext = structure(obj(2, 0x04 | 0x01, addr + struct.pack("!I", 1280)))
    assert parse_extensions(te_with_extensions(ext)) == [
        InterfaceInfo("incoming", None, "2001:db8:0:3::1", None, 1280)]


@pytest.mark.parametrize("ctype, data", [
    (0x04, struct.pack("!HH", 3, 0) + bytes(4)),  # an address family that is neither
    (0x02, bytes([0]) + bytes(3)),                # a name length of 0
    (0x02, bytes([40]) + b"eth0"),                # a name longer than the object
    (0x08, b"\x00\x00"),                          # an ifIndex cut short
])
def test_a_malformed_interface_object_is_kept_raw(ctype, data):
    objs = parse_extensions(te_with_extensions(structure(obj(2, ctype, data))))
    assert len(objs) == 1 and (objs[0].class_num, objs[0].data) == (2, data)


def test_an_unknown_class_is_kept_raw_and_shown_in_hex():
    objs = parse_extensions(te_with_extensions(structure(obj(9, 3, b"\xab\xcd"))))
    assert describe(objs) == "<9/3:abcd>"
    assert as_json(objs) == [{"class": 9, "ctype": 3, "data": "abcd"}]


@pytest.mark.parametrize("ext", [
    b"\x20\x00",                                          # shorter than its header
    structure(struct.pack("!HBB", 3, 1, 1)),             # an object shorter than 4
    structure(struct.pack("!HBB", 12, 1, 1) + bytes(4)),  # an object past the end
])
def test_a_malformed_structure_is_none(ext):
    assert parse_extensions(te_with_extensions(ext)) is None


def _error_with_extensions(version, typ, ext):
    """An error quoting 128 bytes, the RFC 4884 length field in the unit of its family."""
    src, dst, router = (SRC, DST, ROUTER) if version == 4 else (
        "2001:db8::1", "2001:db8:0:8::2", "2001:db8:0:3::2")
    quoted = build_ip(src, dst, PROTO_UDP, 1, struct.pack("!HHHH", 40000, 33434, 40, 0)
                      + bytes(32)).ljust(128, b"\0")
    # ICMPv4 counts 32-bit words in byte 5 (RFC 4884 section 4.1), ICMPv6 64-bit words in
    # byte 4 (section 4.5).
    rest = bytes([0, 32, 0, 0]) if version == 4 else bytes([16, 0, 0, 0])
    return icmp_error(version, router, src, typ, 0, quoted + ext, rest=rest)


@pytest.mark.parametrize("version, typ, extensible", [
    (4, 3, True), (4, 11, True), (4, 12, True), (4, 4, False), (4, 5, False),
    (6, 1, True), (6, 3, True), (6, 2, False), (6, 4, False),
])
def test_which_errors_may_carry_extensions(version, typ, extensible):
    # RFC 4884 section 4: destination unreachable, time exceeded and (ICMPv4)
    # parameter problem; ICMPv6 packet too big and parameter problem are not extended.
    got = parse_extensions(_error_with_extensions(version, typ, structure(MPLS)))
    assert got == ([[MplsEntry(16, 5, False, 1), MplsEntry(17, 0, True, 254)]]
                   if extensible else None)
