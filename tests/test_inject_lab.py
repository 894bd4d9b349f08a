"""Lab tests: `rawtools inject` on the host's veth, tcpdump on the far end as the judge.

Every capture is made here with lab addresses (see injectcaps), never one
of the corpus: injected frames really leave the host's interface. tcpdump
runs in the destination namespace, keeps only frames from the test's own
source MAC (the kernels' own IPv6 chatter stays out), and its file is
compared with what the capture holds, byte for byte.
"""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import rawtools_argv
from injectcaps import (
    LINKTYPE_RAW,
    SRC_MAC,
    ether,
    mixed_frames,
    raw_packets,
    udp4,
    write_pcap,
)

from rawtools.io.pcapfile import read_packets
from rawtools.testing.lab import Lab

pytestmark = pytest.mark.lab

SRC = ":".join(f"{b:02x}" for b in SRC_MAC)


class Receiver:
    """tcpdump on dst's interface, writing what arrives and matches `expression` to a pcap."""

    def __init__(self, lab: Lab, out: Path, expression: str = f"ether src {SRC}") -> None:
        self.out = out
        # Immediate mode gives each frame a ring slot of the snapshot length:
        # 2 KiB slots in 32 MiB hold a whole top-speed burst.
        argv = ["tcpdump", "-i", lab.dst_if, "-Q", "in", "--immediate-mode", "-U", "-s", "2048",
                "-B", "32768", "--time-stamp-precision=nano", "-w", str(out), expression]
        self.proc = subprocess.Popen(lab.exec_argv("dst", argv), stderr=subprocess.PIPE,
                                     text=True)
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        assert "listening on" in line, line + self.proc.stderr.read()

    def frames(self, expect: int, timeout: float = 10.0) -> list[tuple[int, bytes]]:
        """(ts_ns, frame) of everything received, once `expect` are in (or the timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._count() < expect:
            time.sleep(0.05)
        time.sleep(0.3)  # anything beyond `expect` would have come by now
        self.proc.send_signal(signal.SIGINT)
        self.proc.communicate(timeout=20)
        return list(read_packets(str(self.out))[1])

    def _count(self) -> int:
        try:
            return sum(1 for _ in read_packets(str(self.out))[1])
        except Exception:  # noqa: BLE001 - not written yet
            return 0

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def lab(make_lab) -> Lab:
    return make_lab(0)


def receive(lab: Lab, tmp_path: Path, argv: list[str], expect: int, mac: str = SRC,
            dst: str | None = None,
            ) -> tuple[subprocess.CompletedProcess[str], list[tuple[int, bytes]]]:
    """Run `rawtools inject ARGV` on the host while tcpdump listens on dst.

    tcpdump keeps frames from `mac` (to `dst` if given: the host's kernel
    sends its own IPv6 multicast from the interface's address).
    """
    expression = f"ether src {mac}" + (f" and ether dst {dst}" if dst else "")
    rx = Receiver(lab, tmp_path / "received.pcap", expression)
    try:
        r = lab.run("host", rawtools_argv("inject", "-i", lab.host_if, *argv), timeout=120)
        return r, rx.frames(expect)
    finally:
        rx.kill()


@pytest.mark.parametrize("backend, pacing", [
    ("packet", []), ("pcap", []), ("packet", ["--topspeed", "--loop", "3"]),
    ("pcap", ["--topspeed", "--loop", "3"]), ("packet", ["--pps", "500"]),
])
def test_every_frame_arrives_byte_identical(lab, tmp_path, backend, pacing):
    frames = mixed_frames()
    cap = write_pcap(tmp_path / "mixed.pcap", frames)
    loops = 3 if "--loop" in pacing else 1
    r, got = receive(lab, tmp_path, ["--backend", backend, *pacing, str(cap)],
                     len(frames) * loops)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [f for _, f in got] == frames * loops
    n = len(frames) * loops
    assert f"Actual: {n} packets ({sum(map(len, frames)) * loops} bytes)" in r.stdout
    assert "Failed packets:            0" in r.stdout


def test_recorded_pacing_is_kept(lab, tmp_path):
    """Gaps of 0, 50, 150 and 300 ms in the capture are the gaps at the receiver."""
    frames = [ether(0x0800, udp4(18 + i)) for i in range(4)]
    cap = tmp_path / "gaps.pcap"
    write_pcap(cap, frames, gap_us=0)
    raw = bytearray(cap.read_bytes())
    offsets_us = [0, 50_000, 200_000, 500_000]
    pos = 24
    for i, frame in enumerate(frames):
        raw[pos + 4:pos + 8] = offsets_us[i].to_bytes(4, "little")
        pos += 16 + len(frame)
    cap.write_bytes(bytes(raw))
    r, got = receive(lab, tmp_path, [str(cap)], 4)
    assert r.returncode == 0, r.stderr
    gaps_ms = [(b[0] - a[0]) / 1e6 for a, b in itertools.pairwise(got)]
    assert [f for _, f in got] == frames
    for gap, want in zip(gaps_ms, (50, 150, 300), strict=True):
        assert abs(gap - want) < 5, gaps_ms


@pytest.mark.parametrize("backend", ["packet", "pcap"])
def test_raw_ip_capture_gets_the_ethernet_header_asked_for(lab, tmp_path, backend):
    packets = raw_packets()
    cap = write_pcap(tmp_path / "raw.pcap", packets, LINKTYPE_RAW)
    dmac, smac = "02:00:00:00:cc:03", "02:00:00:00:dd:04"
    r, got = receive(lab, tmp_path, ["--backend", backend, "--dmac", dmac, "--smac", smac,
                                     str(cap)], len(packets), mac=smac)
    assert r.returncode == 0, r.stderr
    head = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", ""))
    want = [head + (b"\x08\x00" if p[0] >> 4 == 4 else b"\x86\xdd") + p for p in packets]
    assert [f for _, f in got] == want
    assert f"Framing: RAW frames sent as EN10MB, {smac} > {dmac}" in r.stdout


def test_raw_ip_defaults_to_broadcast_from_the_interface_address(lab, tmp_path):
    link = json.loads(lab.run("host", ["ip", "-j", "link", "show", lab.host_if],
                              check=True).stdout)[0]
    own = link["address"]
    packets = raw_packets()
    cap = write_pcap(tmp_path / "raw.pcap", packets, LINKTYPE_RAW)
    r, got = receive(lab, tmp_path, [str(cap)], len(packets), mac=own,
                     dst="ff:ff:ff:ff:ff:ff")
    assert r.returncode == 0, r.stderr
    head = b"\xff" * 6 + bytes.fromhex(own.replace(":", ""))
    assert [f[:12] for _, f in got] == [head] * len(packets)
    assert [f[14:] for _, f in got] == packets


@pytest.mark.parametrize("backend", ["packet", "pcap"])
def test_pps_1000_for_two_seconds_is_measured_at_the_receiver(lab, tmp_path, backend):
    frames = [ether(0x0800, udp4(18, sport=41000 + i)) for i in range(100)]
    cap = write_pcap(tmp_path / "hundred.pcap", frames)
    r, got = receive(lab, tmp_path, ["--backend", backend, "--pps", "1000", "--loop", "20",
                                     "--json", str(cap)], 2000)
    assert r.returncode == 0, r.stderr
    assert [f for _, f in got] == frames * 20
    rate = (len(got) - 1) / ((got[-1][0] - got[0][0]) / 1e9)
    assert abs(rate - 1000) / 1000 < 0.01, rate
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert all(x["schema"] == "rawtools/1" and x["tool"] == "inject" for x in lines)
    progress = [x for x in lines[:-1] if x["type"] == "progress"]
    assert len(progress) == len(lines) - 1 >= 1  # a 2 s run reports at 1 s (and maybe 2 s)
    assert 900 <= progress[0]["packets"] <= 1100
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["packets"] == 2000
    assert summary["passes"] == 20 and summary["failed"] == 0 and summary["backend"] == backend
    assert 1.95 < summary["seconds"] < 2.05


@pytest.mark.parametrize("backend", ["packet", "pcap"])
def test_a_frame_too_long_for_the_interface_is_counted_failed(lab, tmp_path, backend):
    frames = mixed_frames()
    oversized = ether(0x0800, udp4(1600))
    cap = write_pcap(tmp_path / "long.pcap", [*frames[:3], oversized, *frames[3:]])
    r, got = receive(lab, tmp_path, ["--backend", backend, "--topspeed", str(cap)],
                     len(frames))
    assert r.returncode == 1, r.stdout + r.stderr
    assert [f for _, f in got] == frames
    assert "Failed packets:            1 (Message too long)" in r.stdout
    assert f"Actual: {len(frames)} packets ({sum(map(len, frames))} bytes)" in r.stdout


API = """
import dataclasses, json, sys
import rawtools
r = rawtools.inject(sys.argv[1], sys.argv[2], "ip6 or vlan", count=3, pps=200)
print(json.dumps(dataclasses.asdict(r)))
"""


def test_the_api_returns_the_counts_and_a_filter_picks(lab, tmp_path):
    frames = mixed_frames()
    cap = write_pcap(tmp_path / "mixed.pcap", frames)
    picked = [f for f in frames if f[12:14] in (b"\x86\xdd", b"\x81\x00")][:3]
    rx = Receiver(lab, tmp_path / "received.pcap")
    try:
        r = lab.run("host", [sys.executable, "-c", API, str(cap), lab.host_if], timeout=60)
        got = rx.frames(3)
    finally:
        rx.kill()
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert [f for _, f in got] == picked
    assert (res["frames"], res["matched"], res["packets"]) == (len(frames), 5, 3)
    assert res["bytes"] == sum(map(len, picked)) and res["failed"] == 0
    assert res["backend"] == "packet" and res["linktype"] == "EN10MB"
    assert res["interface"] == lab.host_if and res["dmac"] is None


@pytest.mark.parametrize("backend", ["packet", "pcap"])
def test_bursts_that_wrap_around_the_ring_arrive_in_order(lab, tmp_path, backend):
    """700-frame bursts into a 1024-slot ring: the second straddles its end."""
    frames = [ether(0x0800, udp4(18 + i % 50, sport=30000 + i)) for i in range(700)]
    cap = write_pcap(tmp_path / "seven-hundred.pcap", frames)
    r, got = receive(lab, tmp_path, ["--backend", backend, "--topspeed", "--loop", "3",
                                     str(cap)], 2100)
    assert r.returncode == 0, r.stderr
    assert len(got) == 2100 and [f for _, f in got] == frames * 3


RING = """
import sys
from rawtools.engine import Send
from rawtools.io.inject import open_injector
from injectcaps import mixed_frames, ether, udp4
t = open_injector(sys.argv[1], "packet")
frames = mixed_frames()
t.preload([Send("", f) for f in frames[:2]])  # slots sized for the two shortest frames
t.send_all([Send("", f) for f in frames])  # other objects, longer frames: a new ring
t.send(Send("", frames[0]))
t.send_all([Send("", ether(0x0800, udp4(1473)))])  # one byte more than the MTU allows
print(t.failed, t.failure)
t.close()
"""


def test_the_ring_sends_frames_it_was_not_prepared_for(lab, tmp_path):
    frames = mixed_frames()
    rx = Receiver(lab, tmp_path / "received.pcap")
    try:
        r = lab.run("host", [sys.executable, "-c", RING, lab.host_if], timeout=60,
                    env={"PYTHONPATH": str(Path(__file__).parent)})
        got = rx.frames(len(frames) + 1)
    finally:
        rx.kill()
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "1 Message too long"
    assert [f for _, f in got] == [*frames, frames[0]]
