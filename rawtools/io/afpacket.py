"""A capture backend on a bare AF_PACKET socket with a memory-mapped ring.

Why it exists beside libpcap:

* Immediacy. pcapy-ng cannot switch on libpcap's immediate mode, so libpcap
  delivers a packet only when its TPACKET_V3 block is retired (block full or
  timeout). Here `immediate=True` uses a TPACKET_V2 ring, whose frames become
  readable one by one: select() wakes for every packet.
* Throughput under load. With TPACKET_V3 (the default here) a whole block
  of packets is handed over at once and walked with `struct.unpack_from`
  straight out of the shared mapping: no per-packet call into libpcap and no
  per-packet copy into a libpcap buffer before Python copies it again. The
  ring size is ours to choose (`buffer_kib`), so a burst has room.

The BPF program is compiled by libpcap (`pcapy.compile`, so the language is
exactly tcpdump's) and attached with SO_ATTACH_FILTER before the socket is
bound: the kernel runs it, and no packet can slip in unfiltered. Its return
value is the snapshot length, so the kernel truncates for us too.

The packets are those libpcap would give: Ethernet frames (DLT_EN10MB) with
any VLAN tag the NIC stripped put back, outgoing copies on loopback dropped,
and the `-Q` direction honoured. Only Ethernet-like interfaces are
supported; libpcap's cooked mode (the `any` device, tunnels) rewrites the
filter program for the kernel, which is beyond this module.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import mmap
import socket
import struct
from typing import Protocol

import pcapy

from rawtools.errors import CaptureError, InterfaceError, PermissionNeeded, UsageError
from rawtools.io.capture import (
    BATCH,
    DEFAULT_SNAPLEN,
    DEFAULT_TIMEOUT_MS,
    CaptureSource,
    CaptureStats,
    Direction,
    Packet,
)

SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
PACKET_IGNORE_OUTGOING = 23
TPACKET_V2, TPACKET_V3 = 1, 2
SO_ATTACH_FILTER = 26
ETH_P_ALL = 0x0003
SIOCGIFHWADDR = 0x8927
SIOCGIFMTU = 0x8921
ARPHRD_ETHER, ARPHRD_LOOPBACK = 1, 772
PACKET_OUTGOING = 4
TP_STATUS_USER = 1
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
DLT_EN10MB = 1

# struct tpacket3_hdr up to the VLAN fields, and its aligned size (where the
# struct sockaddr_ll carrying the packet type follows).
_HDR3 = struct.Struct("=IIIIIIHHIIH")
_HDR3_LEN = 48
# struct tpacket2_hdr and its aligned size.
_HDR2 = struct.Struct("=IIIHHIIHH")
_HDR2_LEN = 32
_SLL_PKTTYPE = 10  # offset of sll_pkttype inside struct sockaddr_ll
_SLL_LEN = 20
_U32 = struct.Struct("=I")
_BLOCK = 1 << 20
_PAGE = mmap.PAGESIZE


class BpfProgram(Protocol):
    """A filter compiled by pcapy-ng (pcapy.compile): its instructions, for the kernel."""

    def get_bpf(self) -> list[tuple[int, int, int, int]]: ...


class PacketCapture(CaptureSource):
    """AF_PACKET capture with the same reading interface as `capture.Capture`."""

    live = True

    def __init__(self, interface: str, *, snaplen: int = DEFAULT_SNAPLEN, promisc: bool = True,
                 buffer_kib: int | None = None, timeout_ms: int = DEFAULT_TIMEOUT_MS,
                 direction: Direction | None = None, immediate: bool = False) -> None:
        if interface == "any":
            raise UsageError("the packet backend cannot capture on 'any' (libpcap's cooked "
                             "mode); use --backend pcap")
        self.name = interface
        self.snaplen = snaplen if snaplen > 0 else DEFAULT_SNAPLEN
        self.linktype = DLT_EN10MB
        self.immediate = immediate
        self._timeout_ms = timeout_ms
        self._direction = direction or "inout"
        self._received = self._dropped = 0
        self._filter = ""
        try:
            self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        except PermissionError:
            raise PermissionNeeded(f"{interface}: capturing needs root or CAP_NET_RAW") from None
        try:
            self._open(interface, promisc, (buffer_kib or 4096) * 1024)
        except BaseException:
            self._sock.close()
            raise

    def _open(self, interface: str, promisc: bool, size: int) -> None:
        try:
            ifindex = socket.if_nametoindex(interface)
        except OSError:
            raise InterfaceError(f"{interface}: No such device exists") from None
        ifr = struct.pack("16s16x", interface.encode())
        hatype = struct.unpack_from("=H", fcntl.ioctl(self._sock, SIOCGIFHWADDR, ifr), 16)[0]
        if hatype not in (ARPHRD_ETHER, ARPHRD_LOOPBACK):
            raise UsageError(f"{interface}: the packet backend handles Ethernet-like interfaces "
                             f"only (ARPHRD {hatype}); use --backend pcap")
        self._loopback = hatype == ARPHRD_LOOPBACK
        mtu = struct.unpack_from("=i", fcntl.ioctl(self._sock, SIOCGIFMTU, ifr), 16)[0]
        self._attach(pcapy.compile(DLT_EN10MB, self.snaplen, "", 1, 0xFFFFFFFF))
        if self.immediate:
            self._ring_v2(size, mtu)
        else:
            self._ring_v3(size)
        if self._direction == "in":
            # Kernels before 4.20 refuse it: the pkttype check below still applies.
            with contextlib.suppress(OSError):
                self._sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        if promisc:
            mreq = struct.pack("=iHH8s", ifindex, PACKET_MR_PROMISC, 0, b"")
            self._sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
        self._sock.setblocking(False)
        self._bind: tuple[str, int] | None = (interface, ETH_P_ALL)

    def _ring_v3(self, size: int) -> None:
        self._sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        self._nblocks = max(2, size // _BLOCK)
        frame = 2048
        req = struct.pack("=7I", _BLOCK, self._nblocks, frame, _BLOCK // frame * self._nblocks,
                          max(1, self._timeout_ms), 0, 0)
        self._sock.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
        self._map = mmap.mmap(self._sock.fileno(), _BLOCK * self._nblocks)
        self._cursor = 0
        self._read = self._read_v3

    def _ring_v2(self, size: int, mtu: int) -> None:
        self._sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
        need = _HDR2_LEN + _SLL_LEN + 16 + min(self.snaplen, mtu + 32)
        self._frame = (need + 15) & ~15
        per_block = _PAGE * 4 // self._frame or 1
        block = self._frame * per_block
        block = (block + _PAGE - 1) // _PAGE * _PAGE
        nblocks = max(2, size // block)
        self._nframes = block // self._frame * nblocks
        req = struct.pack("=4I", block, nblocks, self._frame, self._nframes)
        self._sock.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
        self._map = mmap.mmap(self._sock.fileno(), block * nblocks)
        self._block2, self._per_block = block, block // self._frame
        self._cursor = 0
        self._read = self._read_v2

    def _attach(self, program: BpfProgram) -> None:
        insns = program.get_bpf()
        buf = ctypes.create_string_buffer(b"".join(struct.pack("=HBBI", *i) for i in insns))
        fprog = struct.pack("@HP", len(insns), ctypes.addressof(buf))
        self._sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)

    # -- the Capture interface --------------------------------------------------
    def set_filter(self, expression: str) -> None:
        """Compile with libpcap, run in the kernel; then start receiving."""
        try:
            program = pcapy.compile(DLT_EN10MB, self.snaplen, expression or "", 1, 0xFFFFFFFF)
        except pcapy.PcapError as e:
            raise CaptureError(f"bad filter expression: {e}") from None
        self._attach(program)
        self._filter = expression
        self.start()

    def start(self) -> None:
        """Bind to the interface: packets flow from here on, already filtered."""
        if self._bind:
            self._sock.bind(self._bind)
            self._bind = None

    def fileno(self) -> int:
        return self._sock.fileno()

    def read_batch(self, max_n: int = BATCH) -> list[Packet]:
        self.start()
        return self._read(max_n)

    def _keep(self, pkttype: int) -> bool:
        if pkttype == PACKET_OUTGOING:
            return self._direction != "in" and not self._loopback
        return self._direction != "out"

    def _frame_data(self, start: int, snap: int, status: int, tci: int, tpid: int) -> bytes:
        data = self._map[start:start + snap]
        if status & TP_STATUS_VLAN_VALID:
            tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100
            data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
        return data

    def _read_v3(self, max_n: int) -> list[Packet]:
        """Walk retired blocks; a block goes back to the kernel once fully read."""
        out: list[Packet] = []
        mm, unpack, keep = self._map, _HDR3.unpack_from, self._keep
        snaplen = self.snaplen
        while len(out) < max_n:
            base = self._cursor * _BLOCK
            status, num, first = struct.unpack_from("=III", mm, base + 8)
            if not status & TP_STATUS_USER:
                break
            p = base + first
            for _ in range(num):
                nxt, sec, nsec, snap, wire, st, mac, _, _, tci, tpid = unpack(mm, p)
                if keep(mm[p + _HDR3_LEN + _SLL_PKTTYPE]):
                    snap = min(snap, snaplen)
                    data = self._frame_data(p + mac, snap, st, tci, tpid)
                    out.append((sec * 1_000_000_000 + nsec, data, wire + len(data) - snap))
                p += nxt
            _U32.pack_into(mm, base + 8, 0)
            self._cursor = (self._cursor + 1) % self._nblocks
        return out

    def _read_v2(self, max_n: int) -> list[Packet]:
        """Take ready frames in ring order, each handed back at once."""
        out: list[Packet] = []
        mm, unpack, keep = self._map, _HDR2.unpack_from, self._keep
        while len(out) < max_n:
            i = self._cursor
            base = (i // self._per_block) * self._block2 + (i % self._per_block) * self._frame
            st, wire, snap, mac, _, sec, nsec, tci, tpid = unpack(mm, base)
            if not st & TP_STATUS_USER:
                break
            if keep(mm[base + _HDR2_LEN + _SLL_PKTTYPE]):
                snap = min(snap, self.snaplen)
                data = self._frame_data(base + mac, snap, st, tci, tpid)
                out.append((sec * 1_000_000_000 + nsec, data, wire + len(data) - snap))
            _U32.pack_into(mm, base, 0)
            self._cursor = (i + 1) % self._nframes
        return out

    def stats(self) -> CaptureStats:
        """Kernel counters; reading them resets them, so they are summed here."""
        raw = self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12)
        packets, drops = struct.unpack_from("=II", raw)
        self._received += packets  # the kernel already counts drops in tp_packets
        self._dropped += drops
        return CaptureStats(self._received, self._dropped, 0)

    def close(self) -> None:
        with contextlib.suppress(AttributeError, BufferError):
            self._map.close()
        self._sock.close()

