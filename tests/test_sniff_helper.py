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
import random
import shutil
import struct
import subprocess

import pytest
from conftest import rawtools_argv
from test_sniff_decode import A6, B6, A, B, eth, ip4, ip6, tcp, udp

from rawtools.io.capture import Capture
from rawtools.tools.sniff.decode import Decoder
from rawtools.tools.sniff.helper import SPLIT_MIN_BYTES, Helper
from rawtools.tools.sniff.split import Split
from rawtools.wire.link import LINKTYPE_ETHERNET

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None,
                                reason="needs tcpdump, the oracle (Debian package: tcpdump)")


def dns_query(ident: int) -> bytes:
    name = b"\x03www\x07example\x03net\x00"
    return struct.pack("!6H", ident, 0x0100, 1, 0, 0, 0) + name + b"\x00\x01\x00\x01"


def vxlan(frame: bytes) -> bytes:
    return eth(ip4(17, udp(50000, 4789, b"\x08\x00\x00\x00\x00\x00\x01\x00" + frame)))


def write_pcap(path, frames: list[bytes]) -> None:
    with path.open("wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for k, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1_700_000_000 + k // 1000, k % 1000, len(frame),
                                len(frame)) + frame)
    # Big enough for the helper to start (fewer bytes are decoded by one process).
    assert os.path.getsize(path) >= SPLIT_MIN_BYTES


def assert_same_as_tcpdump(path) -> None:
    ours = subprocess.run(rawtools_argv("sniff", "-n", "-r", str(path)), capture_output=True,
                          text=True, timeout=300, check=True).stdout.splitlines()
    theirs = subprocess.run(["tcpdump", "-n", "-r", str(path)], capture_output=True, text=True,
                            timeout=300, check=True).stdout.splitlines()
    assert len(ours) == len(theirs)
    differ = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
    assert not differ, f"{len(differ)} lines differ, first: {differ[0]}"


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
    write_pcap(path, frames)
    assert_same_as_tcpdump(path)


def conversation(port: int, v6: bool, rng: random.Random) -> list[bytes]:
    """One TCP connection's segments, both ways, with data, some inside VXLAN, restarted
    by a new handshake half way (which sets new origins)."""
    client, server = (A6, B6) if v6 else (A, B)

    def frame(fwd: bool, seq: int, ack: int, flags: int, data: bytes = b"") -> bytes:
        src, dst = (client, server) if fwd else (server, client)
        sport, dport = (port, 443) if fwd else (443, port)
        seg = tcp(sport, dport, seq, ack, flags, data, src=src, dst=dst)
        return eth(ip6(6, seg, src, dst), 0x86DD) if v6 else eth(ip4(6, seg, src, dst))

    out = []
    for start in (rng.randrange(1 << 32), rng.randrange(1 << 32)):
        mine, theirs = start, rng.randrange(1 << 32)
        out += [frame(True, mine, 0, 0x02), frame(False, theirs, mine + 1, 0x12),
                frame(True, mine + 1, theirs + 1, 0x10)]
        mine, theirs = mine + 1, theirs + 1
        for _ in range(rng.randrange(5, 15)):
            size = rng.choice((100, 700, 1400))
            out.append(frame(True, mine, theirs, 0x18, b"d" * size))
            mine = (mine + size) & 0xFFFFFFFF
            ack = frame(False, theirs, mine, 0x10)
            out.append(vxlan(ack) if rng.random() < 0.2 else ack)
    return out


def interleaved_connections() -> list[bytes]:
    """300 connections (see `conversation`), interleaved, with DNS queries between."""
    rng = random.Random(7)
    streams = [conversation(20000 + k, k % 3 == 0, rng) for k in range(300)]
    frames = []
    while streams:
        stream = rng.choice(streams)
        frames.append(stream.pop(0))
        if not stream:
            streams.remove(stream)
        if rng.random() < 0.3:
            frames.append(eth(ip4(17, udp(40000, 53, dns_query(len(frames) & 0xFFFF)))))
    return frames


def test_interleaved_connections_split_between_two_processes_read_as_tcpdump_reads_them(
        tmp_path):
    """Each process decodes whole connections: relative numbers, restarts, VXLAN-wrapped
    segments of the same connections, and DNS between them, as one process would."""
    path = tmp_path / "connections.pcap"
    write_pcap(path, interleaved_connections())
    assert_same_as_tcpdump(path)


def test_when_the_helper_fails_this_process_reads_on_with_its_connections(tmp_path,
                                                                           monkeypatch):
    """The helper's journal has kept this process's tracker whole: the connections the
    helper owned read on here, from the first batch it did not send."""
    path = tmp_path / "connections.pcap"
    write_pcap(path, interleaved_connections())
    plan = Split.plan

    def failing(self: Split, batch: list) -> tuple:
        if self.planned >= 3:
            raise RuntimeError("the helper fails")
        self.planned += 1
        return plan(self, batch)

    # The fork inherits the patch: its third batch is its last.
    monkeypatch.setattr(Split, "planned", 0, raising=False)
    monkeypatch.setattr(Split, "plan", failing)
    helper = Helper.start(Decoder(LINKTYPE_ETHERNET), str(path), "", 0)
    assert helper is not None
    with Capture.open_offline(str(path)) as cap:
        ours = "".join(helper.render(batch) for batch in cap.batches()).splitlines()
    helper.close()
    theirs = subprocess.run(["tcpdump", "-n", "-r", str(path)], capture_output=True, text=True,
                            timeout=300, check=True).stdout.splitlines()
    assert len(ours) == len(theirs)
    differ = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
    assert not differ, f"{len(differ)} lines differ, first: {differ[0]}"
