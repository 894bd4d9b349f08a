#!/usr/bin/env python3
"""Top speed: `rawtools inject --topspeed` beside `tcpreplay --topspeed` on the same veth.

Builds a two-node lab (host -> dst), writes a capture of 200,000 60-byte
frames (UDP from 198.18.0.1 to 198.18.0.2, to a MAC nobody owns, so the
far side drops them at once and never answers), and sends it out of the
host's veth with tcpreplay, `rawtools inject --backend packet` (the TX
ring) and `--backend pcap` (libpcap's sendpacket), several rounds, the
order rotated each round. Each tool reports its own packets/s over its own
sending time (tcpreplay's "Rated:" line; inject's is the same line); the
ratio is taken within a round, since the machine is shared and absolute
figures drift. Wall time (process start to exit, loading included) is
printed too. Needs root.

    sudo .venv/bin/python scripts/bench/inject.py [--runs 5] [--count 200000]
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

from rawtools.testing.lab import Lab
from rawtools.wire.checksum import inet_checksum

RATED = re.compile(r"Rated: .* ([\d.]+) pps")


def frame60() -> bytes:
    """A 60-byte Ethernet frame: IPv4 UDP 198.18.0.1:40000 > 198.18.0.2:9, 18 bytes of data."""
    payload = b"rawtools-bench-18b"
    udp = struct.pack("!HHHH", 40000, 9, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2]))
    ip = ip[:10] + struct.pack("!H", inet_checksum(ip)) + ip[12:]
    frame = bytes.fromhex("02000000bb02" "02000000aa01" "0800") + ip + udp
    assert len(frame) == 60
    return frame


def write_capture(path: Path, count: int) -> None:
    frame = frame60()
    records = b"".join(struct.pack("<IIII", 1_700_000_000, i % 1_000_000, 60, 60) + frame
                       for i in range(1000))
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        f.write(records * (count // 1000))
        f.write(records[:(count % 1000) * 76])


def run_one(lab: Lab, argv: list[str]) -> tuple[float | None, float, str]:
    """(packets/s as the tool reports it, wall seconds, its output on failure)."""
    start = time.monotonic()
    r = lab.run("host", argv, timeout=600)
    wall = time.monotonic() - start
    m = RATED.search(r.stdout)
    if r.returncode != 0 or m is None:
        return None, wall, (r.stdout + r.stderr).strip()[-300:]
    return float(m.group(1)), wall, ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="rounds (default 5)")
    ap.add_argument("--count", type=int, default=200_000, help="frames (default 200000)")
    args = ap.parse_args()
    # A timeout's SIGTERM must still tear the lab down (Lab.__exit__).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    rawtools = [sys.executable, "-m", "rawtools", "inject"]
    with tempfile.TemporaryDirectory() as tmp, Lab(0) as lab:
        cap = Path(tmp) / "frames60.pcap"
        write_capture(cap, args.count)
        tools = {
            "tcpreplay": ["tcpreplay", "--topspeed", "-i", lab.host_if, str(cap)],
            "inject packet": [*rawtools, "--backend", "packet", "--topspeed", "-i",
                              lab.host_if, str(cap)],
            "inject pcap": [*rawtools, "--backend", "pcap", "--topspeed", "-i", lab.host_if,
                            str(cap)],
        }
        names = list(tools)
        rates: dict[str, list[float]] = {n: [] for n in names}
        ratios: dict[str, list[float]] = {n: [] for n in names[1:]}
        print(f"{args.count} frames of 60 bytes, --topspeed, out of a lab veth; "
              "packets/s as each tool reports it (wall time incl. start-up and loading)")
        for i in range(args.runs):
            order = names[i % len(names):] + names[:i % len(names)]
            got: dict[str, float] = {}
            cells = []
            for name in order:
                pps, wall, err = run_one(lab, tools[name])
                if pps is None:
                    cells.append(f"{name}: failed ({err})")
                    continue
                got[name] = pps
                rates[name].append(pps)
                cells.append(f"{name} {pps:,.0f} ({wall:.2f} s)")
            line = f"run {i + 1}: " + ", ".join(cells)
            if "tcpreplay" in got:
                for name in names[1:]:
                    if name in got:
                        ratios[name].append(got[name] / got["tcpreplay"])
                        line += f"; {name}/tcpreplay {got[name] / got['tcpreplay']:.2f}x"
            print(line, flush=True)
        print("median packets/s: " + ", ".join(
            f"{n} {statistics.median(v):,.0f}" for n, v in rates.items() if v))
        print("ratio to tcpreplay (same run): " + ", ".join(
            f"{n} {min(v):.2f}-{max(v):.2f}x (median {statistics.median(v):.2f}x)"
            for n, v in ratios.items() if v))
    return 0


if __name__ == "__main__":
    sys.exit(main())
