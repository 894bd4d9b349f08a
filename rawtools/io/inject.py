"""Sending whole link-layer frames out of an interface: the transports of `rawtools inject`.

Two backends keep the engine contract (`rawtools.engine`):

* `PcapInjector`: libpcap's `pcap_sendpacket` (pcapy-ng `sendpacket`), one
  system call a frame, on any interface libpcap can open.
* `RingInjector` (`rawtools.io.txring`): an AF_PACKET socket with a
  memory-mapped PACKET_TX_RING, a burst of frames per system call; for
  Ethernet-like interfaces, and the faster of the two.

Both are batch transports: a poll's burst comes whole to `send_all`, so the
per-frame work left in Python is a loop over a list (libpcap) or nothing at
all (the ring). Nothing is received; `wait` only sleeps, with select()'s
microsecond timeout rather than epoll's millisecond one, because pacing at
thousands of frames a second lives on sub-millisecond waits.

A frame the interface refuses (longer than its MTU allows, say) is not an
error of the run: it is counted in `failed`, with the first reason in
`failure`, and the run goes on, as tcpreplay does. The interface is checked
first with unprivileged ioctls, so a missing or down interface is reported
as such even to a user who lacks CAP_NET_RAW.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import socket
import struct
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, Protocol

import pcapy

from rawtools.engine import Received, Send
from rawtools.errors import CaptureError, InterfaceError, PermissionNeeded
from rawtools.values import frozen
from rawtools.wire.link import DLT_RAW, DLT_RAW_OPENBSD, LINKTYPE_RAW

if TYPE_CHECKING:
    from rawtools.io.txring import RingInjector

Backend = Literal["pcap", "packet"]
"""libpcap's sendpacket, or an AF_PACKET socket with a TX ring."""

SIOCGIFFLAGS = 0x8913
SIOCGIFHWADDR = 0x8927
SIOCGIFMTU = 0x8921
IFF_UP = 0x1
ARPHRD_ETHER, ARPHRD_LOOPBACK = 1, 772
ETH_HLEN = 14
VLAN_HLEN = 4
_VLAN_TPIDS = (b"\x81\x00", b"\x88\xa8")
_META = struct.Struct("=IIII")
BATCH = 4096
MAX_WAIT_S = 2_147_483
"""select() takes no longer timeout; a longer gap is slept in several waits."""
ENOBUFS_PATIENCE_NS = 1_000_000_000
"""How long a frame may keep meeting a full queue before it counts as failed."""
RETRY_ERRNOS = (errno.ENOBUFS, errno.EAGAIN)
"""A full queue: the frame is sent again, not counted as failed."""


def read_frames(path: str) -> tuple[int, list[tuple[int, bytes]]]:
    """(link type, [(ts_ns, frame)]) of a whole pcap or pcapng file, read by libpcap.

    `next_batch` hands over thousands of frames per call, three times as fast
    as a callback per frame; it loses the wire length, which sending never
    needs (a frame goes out as captured). The link type is the file's, as a
    pcap LINKTYPE value. A damaged file is refused whole with libpcap's words:
    nothing is sent from a capture that cannot be read to its end.
    """
    try:
        h = pcapy.open_offline(path)
        dlt = h.datalink()
        frames: list[tuple[int, bytes]] = []
        while True:
            data, meta = h.next_batch(BATCH)
            if not meta:
                break
            frames += [(sec * 1_000_000_000 + usec * 1000, data[off:off + n])
                       for sec, usec, off, n in _META.iter_unpack(meta)]
    except pcapy.PcapError as e:
        msg = str(e)
        raise CaptureError(msg if msg.startswith(path) else f"{path}: {msg}") from None
    return as_linktype(dlt), frames


def as_linktype(dlt: int) -> int:
    """The pcap LINKTYPE value of a DLT libpcap reports (they differ for raw IP only)."""
    return LINKTYPE_RAW if dlt in (DLT_RAW, DLT_RAW_OPENBSD) else dlt


def bpf_matcher(expression: str, linktype: int) -> Callable[[bytes], bool] | None:
    """libpcap's BPF for frames of `linktype`, as a predicate (None: no filter given).

    Run in Python over the frames before sending, once; libpcap's own
    message for a bad expression becomes the one-line error.
    """
    if not expression:
        return None
    dlt = DLT_RAW if linktype == LINKTYPE_RAW else linktype
    try:
        program = pcapy.compile(dlt, 262144, expression, 1, 0xFFFFFFFF)
    except pcapy.PcapError as e:
        raise CaptureError(f"bad filter expression: {e}") from None
    match = program.filter
    return lambda frame: match(frame) != 0


def permission_error(interface: str) -> PermissionNeeded:
    return PermissionNeeded(f"{interface}: sending frames needs root or CAP_NET_RAW "
                            "(run it with sudo)")


@frozen
class LinkFacts:
    """What the kernel says about an interface before we send on it."""

    name: str
    hatype: int
    mac: bytes
    mtu: int

    @property
    def ethernet_like(self) -> bool:
        """Ethernet framing (a NIC, a veth, a bridge; loopback too)."""
        return self.hatype in (ARPHRD_ETHER, ARPHRD_LOOPBACK)

    def fits(self, frame: bytes) -> bool:
        """Whether the kernel takes `frame` on this interface (a VLAN tag may exceed the MTU)."""
        most = self.mtu + ETH_HLEN
        if frame[12:14] in _VLAN_TPIDS:
            most += VLAN_HLEN
        return ETH_HLEN <= len(frame) <= most


def link_facts(interface: str) -> LinkFacts:
    """Hardware type, MAC and MTU of `interface`; refuses one missing or down."""
    try:
        socket.if_nametoindex(interface)
    except (OSError, ValueError):
        raise InterfaceError(f"{interface}: No such device exists") from None
    ifr = struct.pack("16s16x", interface.encode())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            flags = struct.unpack_from("=H", fcntl.ioctl(s, SIOCGIFFLAGS, ifr), 16)[0]
            hw = fcntl.ioctl(s, SIOCGIFHWADDR, ifr)
            mtu = struct.unpack_from("=i", fcntl.ioctl(s, SIOCGIFMTU, ifr), 16)[0]
        except OSError as e:
            raise InterfaceError(f"{interface}: {e.strerror}") from None
    if not flags & IFF_UP:
        raise InterfaceError(f"{interface}: the interface is down")
    hatype = struct.unpack_from("=H", hw, 16)[0]
    return LinkFacts(interface, hatype, hw[18:24], mtu)


class Injector:
    """What both backends share: the interface, the sleeping, the failure tally."""

    backend: Backend

    def __init__(self, facts: LinkFacts, linktype: int) -> None:
        self.facts = facts
        self.linktype = linktype
        self.failed = 0
        self.failed_bytes = 0
        self.retried = 0
        self.failure: str | None = None

    def _fail(self, frames: int, nbytes: int, reason: str) -> None:
        self.failed += frames
        self.failed_bytes += nbytes
        if self.failure is None:
            self.failure = reason

    def preload(self, sends: Sequence[Send]) -> None:
        """Prepare for sending `sends` (the ring builds its slot images); here, nothing."""

    def now(self) -> int:
        return time.time_ns()

    def wait(self, deadline_ns: int | None, wake_fd: int | None = None) -> list[Received]:
        """Sleep until `deadline_ns`, or until `wake_fd` turns readable; nothing arrives."""
        timeout: float | None = None
        if deadline_ns is not None:
            timeout = (deadline_ns - time.time_ns()) / 1e9
            if timeout <= 0:
                return []
            timeout = min(timeout, MAX_WAIT_S)
        elif wake_fd is None:
            return []  # nothing to wait for: never sleep forever
        select.select([] if wake_fd is None else [wake_fd], [], [], timeout)
        return []

    def close(self) -> None:
        raise NotImplementedError


class PcapHandle(Protocol):
    """The part of a pcapy-ng live handle used here; pcapy has no types."""

    def activate(self) -> int: ...
    def datalink(self) -> int: ...
    def sendpacket(self, frame: bytes) -> int: ...
    def setfilter(self, expression: str) -> None: ...
    def set_snaplen(self, n: int) -> None: ...
    def set_promisc(self, on: int) -> None: ...
    def set_buffer_size(self, n: int) -> None: ...
    def close(self) -> None: ...


class PcapInjector(Injector):
    """Frames through libpcap's `pcap_sendpacket`, one system call each."""

    backend: Backend = "pcap"

    def __init__(self, facts: LinkFacts) -> None:
        try:
            h: PcapHandle = pcapy.create(facts.name)
            h.set_snaplen(64)
            h.set_promisc(0)
            h.set_buffer_size(1 << 16)
            rc = h.activate()
        except pcapy.PcapError as e:
            raise CaptureError(f"{facts.name}: {e}") from None
        if rc == -8:  # PCAP_ERROR_PERM_DENIED
            raise permission_error(facts.name)
        if rc < 0:
            raise CaptureError(f"{facts.name}: libpcap cannot open it (status {rc})")
        self._h = h
        # The handle also captures; a filter no frame passes keeps the kernel
        # from copying every packet of the interface into a buffer never read.
        h.setfilter("less 0")
        super().__init__(facts, as_linktype(h.datalink()))

    def _send(self, frame: bytes) -> None:
        """One frame; a full queue is retried for a while, any other refusal counted."""
        give_up: int | None = None
        while True:
            try:
                self._h.sendpacket(frame)
                return
            except pcapy.PcapError as e:
                reason = str(e)
            if not any(os.strerror(n) in reason for n in RETRY_ERRNOS):
                break
            now = time.monotonic_ns()
            give_up = give_up or now + ENOBUFS_PATIENCE_NS
            if now > give_up:
                break
            self.retried += 1
        self._fail(1, len(frame), reason.removeprefix("send: "))

    def send(self, send: Send) -> tuple[int, bytes | None]:
        self._send(send.data)
        return time.time_ns(), None

    def send_all(self, sends: Sequence[Send]) -> list[tuple[int, bytes | None]]:
        put = self._h.sendpacket
        for s in sends:
            try:
                put(s.data)
            except pcapy.PcapError:
                self._send(s.data)  # the slow path sorts retries from refusals
        return [(time.time_ns(), None)] * len(sends)

    def close(self) -> None:
        self._h.close()


def open_injector(interface: str, backend: Backend | None = None, *,
                  bypass: bool = False) -> PcapInjector | RingInjector:
    """The interface opened for sending (root or CAP_NET_RAW needed).

    Without a `backend`, the AF_PACKET ring on Ethernet-like interfaces and
    libpcap elsewhere. `bypass` asks the ring to skip the queueing discipline
    (PACKET_QDISC_BYPASS): faster, but traffic shaping and local captures on
    the interface no longer see the frames.
    """
    facts = link_facts(interface)
    if backend is None:
        backend = "packet" if facts.ethernet_like else "pcap"
    if backend == "pcap":
        return PcapInjector(facts)
    from rawtools.io.txring import RingInjector

    return RingInjector(facts, bypass=bypass)
