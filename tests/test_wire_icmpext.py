"""ICMP extensions (RFC 4884, 4950, 5837) against oracles rawtools did not write.

tests/test_trace_icmpext.py checks the decoder on literal structures; here the
datagrams are packed by this file alone (struct, dpkt's checksums and IP
packers, RFC 3032's label stack entry as a bit string) and read twice: by
rawtools and by tshark, whose ICMP dissector decodes the same extensions
independently. The edge cases below them are the ones mutation testing
(scripts/mutation.sh) showed no test looked at, each with the RFC rule it
follows.
"""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
from pathlib import Path
from typing import Any

import dpkt
import jsonschema
import pytest
from conftest import CORPUS

from rawtools.schemas import load
from rawtools.wire.icmpext import (
    InterfaceInfo,
    MplsEntry,
    RawObject,
    as_json,
    describe,
    parse_extensions,
    parse_structure,
)

SRC, DST, ROUTER = "198.18.0.1", "198.18.8.2", "198.18.3.2"
SRC6, DST6, ROUTER6 = "2001:db8::1", "2001:db8:0:8::2", "2001:db8:0:3::2"
# RFC 5837 section 4.1: the C-Type's top two bits name the interface's role.
ROLE_BITS = {"incoming": 0, "sub-ip": 1, "outgoing": 2, "next-hop": 3}


def mpls_entry(label: int, tc: int, bottom: int, ttl: int) -> bytes:
    """RFC 3032 section 2.1's label stack entry, written as its figure's bit fields."""
    return int(f"{label:020b}{tc:03b}{bottom:01b}{ttl:08b}", 2).to_bytes(4, "big")


def ext_object(class_num: int, ctype: int, data: bytes) -> bytes:
    """RFC 4884 section 7.2: a 16-bit length counting the 4-byte object header, class, C-Type."""
    return struct.pack("!HBB", 4 + len(data), class_num, ctype) + data


def ext_structure(*objects: bytes, version: int = 2, checksum: bool = True) -> bytes:
    """RFC 4884 section 7.1: version in the top nibble, then the checksum over the structure."""
    body = b"".join(objects)
    head = bytes([version << 4, 0, 0, 0])
    if checksum:
        head = head[:2] + struct.pack("!H", dpkt.in_cksum(head + body)) + head[4:]
    return head + body


def interface(role: str, ifindex: int | None = None, addr: str | None = None,
              name: bytes | None = None, mtu: int | None = None) -> bytes:
    """An RFC 5837 interface information object: the fields present, in the RFC's order."""
    ctype, data = ROLE_BITS[role] << 6, b""
    if ifindex is not None:
        ctype |= 0x08
        data += struct.pack("!I", ifindex)
    if addr is not None:
        ctype |= 0x04
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        data += struct.pack("!HH", 2 if fam == socket.AF_INET6 else 1, 0)  # AFI, reserved
        data += socket.inet_pton(fam, addr)
    if name is not None:
        ctype |= 0x02
        data += bytes([1 + len(name)]) + name  # the length octet counts itself
    if mtu is not None:
        ctype |= 0x01
        data += struct.pack("!I", mtu)
    return ext_object(2, ctype, data)


def udp_probe(version: int, size: int) -> bytes:
    """The quoted datagram: a UDP probe packed by dpkt, zero-padded to `size` (RFC 4884 4.1)."""
    udp = dpkt.udp.UDP(sport=40000, dport=33434, data=bytes(32))
    udp.ulen = len(bytes(udp))
    if version == 4:
        ip: Any = dpkt.ip.IP(src=socket.inet_aton(SRC), dst=socket.inet_aton(DST), p=17, ttl=1,
                             data=udp)
    else:
        ip = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, SRC6),
                          dst=socket.inet_pton(socket.AF_INET6, DST6), nxt=17, hlim=1,
                          plen=len(bytes(udp)), data=udp)
        ip.extension_hdrs = {}
    return bytes(ip).ljust(size, b"\0")


def icmp_error(version: int, typ: int, quote: bytes, ext: bytes, words: int | None = None,
               ip_options: bytes = b"") -> bytes:
    """An ICMP(v6) error with `ext` after `quote`; `words` the RFC 4884 length field.

    ICMPv4 counts 32-bit words in byte 5 (RFC 4884 section 4.1), ICMPv6 64-bit words in
    byte 4 (section 4.5); `words` defaults to the quote's own length in that unit.
    """
    unit = 4 if version == 4 else 8
    words = len(quote) // unit if words is None else words
    if version == 4:
        msg = bytes([typ, 0, 0, 0, 0, words, 0, 0]) + quote + ext
        msg = msg[:2] + struct.pack("!H", dpkt.in_cksum(msg)) + msg[4:]
        ip = dpkt.ip.IP(src=socket.inet_aton(ROUTER), dst=socket.inet_aton(SRC), p=1, ttl=62,
                        opts=ip_options, data=msg)
        ip.hl = 5 + len(ip_options) // 4
        return bytes(ip)
    icmp6 = dpkt.icmp6.ICMP6(type=typ, code=0, data=bytes([words, 0, 0, 0]) + quote + ext)
    ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, ROUTER6),
                       dst=socket.inet_pton(socket.AF_INET6, SRC6), nxt=58, hlim=62,
                       plen=len(bytes(icmp6)), data=icmp6)
    ip6.extension_hdrs = {}
    return bytes(ip6)  # dpkt's IP6 packer fills in the ICMPv6 checksum


STACK = [(1048575, 7, 0, 255), (16, 5, 0, 1), (0, 0, 1, 0), (524288, 2, 1, 128)]
MPLS_OBJ = ext_object(1, 1, b"".join(mpls_entry(*e) for e in STACK))

# Errors that tshark is asked to decode too: both families, quotes longer than the
# 128 bytes old routers assume, an IPv4 header with options, every interface field.
CASES: dict[str, bytes] = {
    "v4-time-exceeded-144": icmp_error(4, 11, udp_probe(4, 144), ext_structure(
        MPLS_OBJ, interface("outgoing", 7, "198.18.2.9", b"eth0\0\0\0", 1500))),
    "v6-time-exceeded-144": icmp_error(6, 3, udp_probe(6, 144), ext_structure(
        MPLS_OBJ, interface("incoming", 4294967295, "2001:db8::9", b"xe-0/0/1.0\0", 9000))),
    "v4-options-unreach": icmp_error(4, 3, udp_probe(4, 128), ext_structure(
        interface("next-hop", None, "2001:db8:0:3::1", b"ge0\0\0\0\0\0\0\0\0", 1280)),
        ip_options=b"\x01\x01\x01\x00"),  # NOP, NOP, NOP, end: IHL 6
    "v6-unreach-sub-ip": icmp_error(6, 1, udp_probe(6, 128), ext_structure(
        interface("sub-ip", ifindex=3, mtu=65535), MPLS_OBJ)),
    "v4-name-after-ipv6": icmp_error(4, 11, udp_probe(4, 136), ext_structure(
        interface("incoming", 2, "2001:db8::2", b"lo\0", None))),
}


def tshark_view(obj: list[MplsEntry] | InterfaceInfo | RawObject) -> dict[str, list[str]]:
    """rawtools' reading in the shape of tshark's fields."""
    if isinstance(obj, list):
        return {"icmp.mpls.label": [str(e.label) for e in obj],
                "icmp.mpls.exp": [str(e.tc) for e in obj],
                "icmp.mpls.s": [str(int(e.bottom)) for e in obj],
                "icmp.mpls.ttl": [str(e.ttl) for e in obj]}
    assert isinstance(obj, InterfaceInfo)
    v6 = obj.addr is not None and ":" in obj.addr
    return {"icmp.int_info.role": [str(ROLE_BITS[obj.role])],
            "icmp.int_info.index": [] if obj.ifindex is None else [str(obj.ifindex)],
            "icmp.int_info.ipv4": [] if obj.addr is None or v6 else [obj.addr],
            "icmp.int_info.ipv6": [obj.addr] if v6 and obj.addr else [],
            "icmp.int_info.mtu": [] if obj.mtu is None else [str(obj.mtu)]}


# Not icmp.int_info.name: tshark 4.0 shows the name's length octet but never the name;
# the names are checked against the bytes packed here instead.
FIELDS = ["icmp.mpls.label", "icmp.mpls.exp", "icmp.mpls.s", "icmp.mpls.ttl",
          "icmp.int_info.role", "icmp.int_info.index", "icmp.int_info.ipv4",
          "icmp.int_info.ipv6", "icmp.int_info.mtu"]


def tshark_fields(packets: list[bytes], path: Path,
                  linktype: int = 101) -> list[dict[str, list[str]]]:
    """Each packet's extension fields as tshark decodes them (every occurrence)."""
    with path.open("wb") as f:
        w = dpkt.pcap.Writer(f, linktype=linktype)
        for p in packets:
            w.writepkt(p, 0)
    argv = ["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "occurrence=a",
            "-E", "aggregator=;"]
    for field in FIELDS:
        argv += ["-e", field]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return [{f: (v.split(";") if v else []) for f, v in zip(FIELDS, line.split("\t"), strict=True)}
            for line in out.splitlines()]


def merged(views: list[dict[str, list[str]]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {f: [] for f in FIELDS}
    for v in views:
        for f, values in v.items():
            out[f] += values
    # tshark prints booleans as 1/0 or True/False depending on its version.
    out["icmp.mpls.s"] = [{"True": "1", "False": "0"}.get(s, s) for s in out["icmp.mpls.s"]]
    return out


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is the oracle")
def test_tshark_reads_the_same_extensions(tmp_path):
    names = list(CASES)
    seen = tshark_fields([CASES[n] for n in names], tmp_path / "ext.pcap")
    assert len(seen) == len(names)
    for name, theirs in zip(names, seen, strict=True):
        ours = parse_extensions(CASES[name])
        assert ours, name
        assert merged([tshark_view(o) for o in ours]) == merged([theirs]), name
    named = {n: [o.name for o in parse_extensions(CASES[n]) or [] if isinstance(o, InterfaceInfo)]
             for n in names}
    assert named == {"v4-time-exceeded-144": ["eth0"], "v6-time-exceeded-144": ["xe-0/0/1.0"],
                     "v4-options-unreach": ["ge0"], "v6-unreach-sub-ip": [None],
                     "v4-name-after-ipv6": ["lo"]}


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is the oracle")
def test_a_real_routers_rfc5837_objects_as_tshark_reads_them(tmp_path):
    """tcpdump's corpus capture of a router's time-exceeded over PPP (HDLC framing)."""
    with (CORPUS / "icmp-rfc5837.pcap").open("rb") as f:
        frames = [buf for _, buf in dpkt.pcap.Reader(f)]
    packets = [buf[4:] for buf in frames]
    seen = tshark_fields(packets, tmp_path / "real.pcap")
    found = 0
    for packet, theirs in zip(packets, seen, strict=True):
        ours = parse_extensions(packet) or []
        found += len(ours)
        assert merged([tshark_view(o) for o in ours if not isinstance(o, RawObject)]) \
            == merged([theirs])
    assert found
    # tcpdump -v shows the name's bytes after the 0x40 length octet.
    assert [o.name for o in parse_extensions(packets[0]) or [] if isinstance(o, InterfaceInfo)] \
        == ["This-is-the-name-of-the-Interface-that-we-are-looking-for-[:-)]"]


def test_the_label_stack_entries_as_rfc_3032_lays_them_out():
    objs = parse_extensions(CASES["v4-time-exceeded-144"])
    assert objs is not None
    assert objs[0] == [MplsEntry(label, tc, bool(s), ttl) for label, tc, s, ttl in STACK]
    assert describe([objs[0]]) == "<MPLS:" + "/".join(
        f"L={label},E={tc},S={s},T={ttl}" for label, tc, s, ttl in STACK) + ">"


def test_as_json_follows_the_trace_schema_and_the_rfc_values():
    """The shipped schema's extension definition (closed: no field it does not name)."""
    schema = load("trace")
    ext_def = dict(schema["$defs"]["extension"])
    closed = {"oneOf": [dict(alt, additionalProperties=False) for alt in ext_def["oneOf"]]}
    closed["oneOf"][0]["properties"]["stack"]["items"] = dict(
        closed["oneOf"][0]["properties"]["stack"]["items"], additionalProperties=False)
    objs = parse_extensions(CASES["v6-time-exceeded-144"])
    assert objs is not None
    objs.append(RawObject(9, 3, b"\x00\xff"))
    got = as_json(objs)
    for item in got:
        jsonschema.validate(item, closed)
    assert got[0] == {"class": "mpls", "stack": [
        {"label": label, "tc": tc, "bottom": bool(s), "ttl": ttl} for label, tc, s, ttl in STACK]}
    assert got[1] == {"class": "interface", "role": "incoming", "ifindex": 4294967295,
                      "addr": "2001:db8::9", "name": "xe-0/0/1.0", "mtu": 9000}
    assert got[2] == {"class": 9, "ctype": 3, "data": "00ff"}


def test_describe_names_every_interface_field_in_the_rfcs_order():
    objs = parse_extensions(CASES["v4-options-unreach"])
    assert objs == [InterfaceInfo("next-hop", None, "2001:db8:0:3::1", "ge0", 1280)]
    assert describe(objs) == "<NEXT-HOP:ip=2001:db8:0:3::1,name=ge0,mtu=1280>"
    assert describe([objs[0], RawObject(200, 1, b"")]) == \
        "<NEXT-HOP:ip=2001:db8:0:3::1,name=ge0,mtu=1280> <200/1:>"


# -- the RFC's rules at their edges ---------------------------------------------------

@pytest.mark.parametrize("version", [4, 6])
@pytest.mark.parametrize("quote_len", [128, 136, 144, 256])
def test_the_length_field_places_the_structure(version, quote_len):
    """RFC 4884 4.1/4.5: the structure starts where the length field says, not at 128."""
    if version == 6 and quote_len % 8:
        pytest.skip("ICMPv6 quotes are padded to 64-bit words")
    ext = ext_structure(MPLS_OBJ)
    assert parse_extensions(icmp_error(version, 11 if version == 4 else 3,
                                       udp_probe(version, quote_len), ext)) == \
        [[MplsEntry(label, tc, bool(s), ttl) for label, tc, s, ttl in STACK]]
    # A length field one word short puts a zero word (the quote's padding) where the
    # version should be: no structure.
    unit = 4 if version == 4 else 8
    short = icmp_error(version, 11 if version == 4 else 3, udp_probe(version, quote_len), ext,
                       words=quote_len // unit - 1)
    assert parse_extensions(short) is None


def test_a_length_field_that_leaves_nothing_after_the_quote_means_no_structure():
    quote = udp_probe(4, 144)
    assert parse_extensions(icmp_error(4, 11, quote, b"")) is None
    # Past the end of the message altogether.
    assert parse_extensions(icmp_error(4, 11, quote, b"", words=60)) is None


def test_without_a_length_field_only_a_structure_with_an_object_at_128_counts():
    """RFC 4884 section 5: older routers quote 128 bytes; a bare header there is no extension."""
    quote = udp_probe(4, 128)
    assert parse_extensions(icmp_error(4, 11, quote, ext_structure(), words=0)) is None
    for stray in (1, 2, 3):  # a header and less than an object header: still none
        bare = ext_structure(bytes(stray))
        assert parse_extensions(icmp_error(4, 11, quote, bare, words=0)) is None
    empty = ext_structure(ext_object(7, 9, b""))
    assert parse_extensions(icmp_error(4, 11, quote, empty, words=0)) == [RawObject(7, 9, b"")]
    # Not at 128: a 144-byte quote whose length field is 0 has zeros at 128.
    assert parse_extensions(icmp_error(4, 11, udp_probe(4, 144), ext_structure(MPLS_OBJ),
                                       words=0)) is None


def test_a_header_only_structure_and_an_empty_last_object():
    """RFC 4884 7.2: an object's length counts its 4-byte header, so 4 is an empty object."""
    assert parse_structure(ext_structure()) == []
    assert parse_structure(ext_structure(MPLS_OBJ, ext_object(99, 0, b""))) == [
        [MplsEntry(label, tc, bool(s), ttl) for label, tc, s, ttl in STACK],
        RawObject(99, 0, b"")]
    assert parse_structure(b"\x20\x00\x00") is None  # shorter than the header


def test_the_structure_version_must_be_2_and_the_checksum_right_unless_zero():
    assert parse_structure(ext_structure(MPLS_OBJ, version=1)) is None
    assert parse_structure(ext_structure(MPLS_OBJ, version=3)) is None
    assert parse_structure(ext_structure(MPLS_OBJ, checksum=False)) is not None
    good = bytearray(ext_structure(MPLS_OBJ))
    good[2:4] = (int.from_bytes(good[2:4], "big") ^ 1).to_bytes(2, "big")
    assert parse_structure(bytes(good)) is None


@pytest.mark.parametrize("class_num, ctype, data", [
    (1, 2, mpls_entry(16, 0, 1, 1)),         # MPLS class, C-Type other than 1 (RFC 4950)
    (1, 1, mpls_entry(16, 0, 1, 1) + b"\0\0"),  # not a whole number of entries
    (3, 1, mpls_entry(16, 0, 1, 1)),         # a class this module does not decode
])
def test_what_is_not_a_label_stack_is_kept_raw(class_num, ctype, data):
    assert parse_structure(ext_structure(ext_object(class_num, ctype, data))) == [
        RawObject(class_num, ctype, data)]


def test_a_single_label_stack_entry():
    assert parse_structure(ext_structure(ext_object(1, 1, mpls_entry(3, 6, 1, 64)))) == [
        [MplsEntry(3, 6, True, 64)]]


def test_interface_names_as_rfc_5837_sizes_them():
    """4.5: the length octet counts itself; the name is UTF-8, NUL-padded to a 4-byte multiple."""
    objs = parse_structure(ext_structure(interface("outgoing", name=b"")))
    assert objs == [InterfaceInfo("outgoing", name="")]  # length 1: an empty name
    objs = parse_structure(ext_structure(interface("outgoing", name=b"w\xffan\0\0\0")))
    assert objs == [InterfaceInfo("outgoing", name="w\ufffdan")]  # not UTF-8: replaced
    # Only the NUL padding goes: a name may end in any other character.
    objs = parse_structure(ext_structure(interface("outgoing", name=b"vlanX\0\0")))
    assert objs == [InterfaceInfo("outgoing", name="vlanX")]
    # A name filling its object exactly, followed by nothing.
    objs = parse_structure(ext_structure(interface("incoming", 5, name=b"abcdefg")))
    assert objs == [InterfaceInfo("incoming", 5, None, "abcdefg", None)]
    # The fields after an IPv4 address start 8 bytes on, after an IPv6 one 20.
    objs = parse_structure(ext_structure(interface("incoming", 1, "198.18.2.1", b"x\0\0", 68)))
    assert objs == [InterfaceInfo("incoming", 1, "198.18.2.1", "x", 68)]


@pytest.mark.parametrize("data", [
    b"\x00\x00\x00\x07" + b"\x00\x01\x00\x00\xc0\x00",  # ifIndex, then an IPv4 address cut short
    b"\x00\x00\x00\x07\x06ab",                             # a name past the object's end
    b"\x00\x00\x00\x07\x02a\x00\x00\x05",                # an MTU cut short
])
def test_a_cut_short_interface_object_is_kept_raw(data):
    ctype = {10: 0x0C, 7: 0x0A, 9: 0x0B}[len(data)]
    assert parse_structure(ext_structure(ext_object(2, ctype, data))) == [
        RawObject(2, ctype, data)]
