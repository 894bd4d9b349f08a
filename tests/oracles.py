"""Oracles the code under test did not compute: tcpdump's witness, and checksums by hand.

A lab test starts `Tcpdump` in a namespace before the tool runs and reads
the file afterwards, for the bytes that really crossed the interface and
`tcpdump -vv -r`'s own opinion of each checksum. `ref_sum` and friends are
RFC 1071's textbook word loop with end-around carries and the pseudo-headers
spelled out from RFC 768 and RFC 8200, not `rawtools.wire.checksum`.
"""

from __future__ import annotations

import struct
import subprocess
import time
from pathlib import Path
from types import TracebackType

import dpkt

from rawtools.testing.lab import Lab


class Tcpdump:
    """`tcpdump -i IFACE -w FILE [filter]` in `node`, running within the `with` block."""

    def __init__(self, lab: Lab, node: str, iface: str, path: Path, bpf: str = "") -> None:
        self.path = path
        # -Z root: tcpdump opens its output after giving up root by default,
        # and pytest's temporary directories are root's alone.
        # --immediate-mode: otherwise the last packets wait in the kernel's ring
        # for a block to fill, and the SIGTERM at the end of the block loses them.
        argv = ["tcpdump", "-i", iface, "-n", "-U", "--immediate-mode", "-Z", "root",
                "-w", str(path)]
        self.proc = subprocess.Popen(lab.exec_argv(node, argv + ([bpf] if bpf else [])),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)

    def __enter__(self) -> Tcpdump:
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError(f"tcpdump did not start: {line}")
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        time.sleep(0.1)  # what the tool saw last is still on its way to tcpdump
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def datagrams(self) -> list[tuple[float, bytes]]:
        """(timestamp, IP datagram) of every Ethernet frame captured, bytes as they were.

        Sliced from the frame, never re-serialised: dpkt would fill in a zero
        UDP checksum on the way out, the very thing some tests look for.
        """
        out = []
        with self.path.open("rb") as f:
            for ts, frame in dpkt.pcap.Reader(f):
                etype = struct.unpack_from("!H", frame, 12)[0]
                ip = frame[14:]
                if etype == 0x0800:
                    out.append((float(ts), ip[:struct.unpack_from("!H", ip, 2)[0]]))
                elif etype == 0x86DD:
                    out.append((float(ts), ip[:40 + struct.unpack_from("!H", ip, 4)[0]]))
        return out

    def verdicts(self) -> list[str]:
        """tcpdump -vv's text of the file, one string per packet."""
        text = subprocess.run(["tcpdump", "-vv", "-n", "-r", str(self.path)],
                              capture_output=True, text=True, check=True).stdout
        packets: list[str] = []
        for line in text.splitlines():
            if line[:1].isdigit():
                packets.append(line)
            elif packets:
                packets[-1] += "\n" + line
        return packets


def ref_sum(data: bytes) -> int:
    """RFC 1071's loop: 16-bit big-endian words, carries folded back in."""
    if len(data) % 2:
        data += b"\0"
    total = 0
    for i in range(0, len(data), 2):
        total += (data[i] << 8) | data[i + 1]
        total = (total & 0xFFFF) + (total >> 16)
    return total


def ref_pseudo(packet: bytes) -> bytes:
    """The pseudo-header of a UDP datagram without options or extension headers."""
    if packet[0] >> 4 == 4:
        ulen = struct.unpack_from("!H", packet, 24)[0]
        return packet[12:20] + bytes([0, 17]) + struct.pack("!H", ulen)
    ulen = struct.unpack_from("!H", packet, 44)[0]
    return packet[8:40] + struct.pack("!I", ulen) + bytes([0, 0, 0, 17])


def ref_checksum(packet: bytes) -> int:
    """The UDP checksum `packet` should carry (0xffff for a computed 0)."""
    off = 20 if packet[0] >> 4 == 4 else 40
    seg = bytearray(packet[off:])
    seg[6:8] = b"\0\0"
    return (~ref_sum(ref_pseudo(packet) + bytes(seg)) & 0xFFFF) or 0xFFFF


def dpkt_checksum(src: str, dst: str, proto: int, segment: bytes) -> int:
    """dpkt's own checksum for a TCP, UDP or ICMPv6 `segment` whose checksum field is zero.

    dpkt fills a zero checksum in while serialising the IP datagram around it, with its
    own pseudo-header code (ip.py, ip6.py): an implementation independent of ours.
    """
    import socket

    cls = {6: dpkt.tcp.TCP, 17: dpkt.udp.UDP, 58: dpkt.icmp6.ICMP6}[proto]
    seg = cls(segment)
    if ":" in src:
        ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, src),
                           dst=socket.inet_pton(socket.AF_INET6, dst), nxt=proto,
                           plen=len(segment), hlim=64, data=seg)
        ip6.extension_hdrs = {}
        out = bytes(ip6)[40:]
    else:
        ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=proto, data=seg)
        out = bytes(ip)[20:]
    assert len(out) == len(segment)
    at = {6: 16, 17: 6, 58: 2}[proto]
    return int(struct.unpack_from("!H", out, at)[0])


def pcap_file(frames: list[bytes], linktype: int = 1, snaplen: int = 262144) -> bytes:
    """A pcap file of `frames`, all at one instant; longer than `snaplen`, a frame is
    cut to it in the file and keeps its wire length (a capture cut short by -s)."""
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)
    return header + b"".join(struct.pack("<IIII", 1_700_000_000, 0, min(len(f), snaplen),
                                         len(f)) + f[:snaplen] for f in frames)


def tcpdump_first_lines(frames: list[bytes], linktype: int = 1, snaplen: int = 262144,
                        verbose: int = 0) -> list[str]:
    """The first line `tcpdump -n -t` prints for each frame, written to a pcap here.

    Literal bytes in, tcpdump's own words out: the oracle for the sniff
    printers' tests, so no expected line is typed by hand. Frames longer than
    `snaplen` are cut to it in the file, their wire length kept (a capture
    cut short by -s).
    """
    import tempfile

    from rawtools.testing.fidelity import tcpdump_first_lines as first_lines

    with tempfile.NamedTemporaryFile(suffix=".pcap") as tmp:
        tmp.write(pcap_file(frames, linktype, snaplen))
        tmp.flush()
        lines = first_lines(tmp.name, verbose)
    # tcpdump's timestamp goes: the tests decode with ts_style="none" (-t).
    return [ln.split(" ", 1)[1] for ln in lines]
