"""The second decoding process of `sniff -r` (rawtools.tools.sniff.helper) against tcpdump.

A file of at least SPLIT_MIN_BYTES is decoded by two processes; what either
decodes must not depend on what the other saw. TCP segments carry state (the
relative sequence numbers), and a tunnel's inner frame can be a TCP segment:
a VXLAN datagram is UDP, but not stateless. The capture here is mostly DNS
(which the helper takes) with a TCP conversation inside VXLAN between, and
tcpdump, run on the same file, gives every line.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess

import pytest
from conftest import rawtools_argv
from test_sniff_decode import A, B, eth, ip4, tcp, udp

from rawtools.tools.sniff.helper import SPLIT_MIN_BYTES

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None,
                                reason="needs tcpdump, the oracle (Debian package: tcpdump)")


def dns_query(ident: int) -> bytes:
    name = b"\x03www\x07example\x03net\x00"
    return struct.pack("!6H", ident, 0x0100, 1, 0, 0, 0) + name + b"\x00\x01\x00\x01"


def vxlan(frame: bytes) -> bytes:
    return eth(ip4(17, udp(50000, 4789, b"\x08\x00\x00\x00\x00\x00\x01\x00" + frame)))


def test_tcp_inside_vxlan_keeps_its_sequence_numbers_when_two_processes_decode(tmp_path):
    inner = [eth(ip4(6, tcp(40000, 80, 1000, 0, 0x02))),
             eth(ip4(6, tcp(80, 40000, 50000, 1001, 0x12), B, A))]
    for i in range(2500):
        inner.append(eth(ip4(6, tcp(40000, 80, 1001 + i * 1000, 50001, 0x18, b"x" * 1000))))
        inner.append(eth(ip4(6, tcp(80, 40000, 50001, 1001 + (i + 1) * 1000, 0x10), B, A)))
    frames = []
    for k, frame in enumerate(inner):
        frames.append(vxlan(frame))
        frames += [eth(ip4(17, udp(40000 + j, 53, dns_query(k + j)))) for j in range(4)]
    path = tmp_path / "vxlan-tcp.pcap"
    with path.open("wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for k, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1_700_000_000 + k // 1000, k % 1000, len(frame),
                                len(frame)) + frame)
    # Big enough for the helper to start (fewer bytes are decoded by one process).
    assert os.path.getsize(path) >= SPLIT_MIN_BYTES
    ours = subprocess.run(rawtools_argv("sniff", "-n", "-r", str(path)), capture_output=True,
                          text=True, timeout=300, check=True).stdout.splitlines()
    theirs = subprocess.run(["tcpdump", "-n", "-r", str(path)], capture_output=True, text=True,
                            timeout=300, check=True).stdout.splitlines()
    assert len(ours) == len(theirs)
    differ = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
    assert not differ, f"{len(differ)} lines differ, first: {differ[0]}"
