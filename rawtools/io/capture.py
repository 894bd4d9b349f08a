"""The libpcap capture handle every tool reads packets through (pcapy-ng).

A packet is the tuple `(ts_ns, data, orig_len)`: the timestamp in integer
nanoseconds since the epoch, the captured bytes, and the length on the wire.
Tuples rather than objects because the offline path hands out a million of
them a second and an object per packet would cost more than the read itself.

Three facts about pcapy-ng's bundled libpcap (1.9.1) shape this module:

* A blocking live read never returns while no packet arrives, and Ctrl-C
  cannot interrupt it. Live handles are therefore always non-blocking and
  waited on with `select` on `fileno()`.
* There is no immediate mode. libpcap's TPACKET_V3 ring hands a block of
  packets to user space only when the block fills or `timeout_ms` expires, so
  at low packet rates a packet is seen up to `timeout_ms` after it arrived.
  `DEFAULT_TIMEOUT_MS` (50 ms) keeps an interactive sniffer responsive while
  still letting one wake-up carry hundreds of packets under load; where a
  packet must be seen at once use `rawtools.io.afpacket` (`--immediate`).
* `next_batch` returns many packets in one call but drops the wire length.
  It is used only where the wire length is certain to equal the captured
  length: when the snapshot length exceeds 65535, the largest IP datagram
  plus any link header, so nothing can have been cut. Smaller snapshot
  lengths (`-s 96`, old tcpdump files with 65535 or 68) take the exact path,
  a `dispatch` callback that reads the length from libpcap's header.
"""

from __future__ import annotations

import os
import select
import struct
import sys
import time
from collections.abc import Callable, Iterator
from typing import Literal, Protocol, Self

import pcapy

from rawtools.errors import CaptureError, InterfaceError, PermissionNeeded
from rawtools.io.stop import Stop
from rawtools.values import frozen

Packet = tuple[int, bytes, int]
# Which packets a live capture keeps: received, sent, or both (tcpdump -Q).
Direction = Literal["in", "out", "inout"]

DEFAULT_SNAPLEN = 262144
DEFAULT_TIMEOUT_MS = 50
BATCH = 1024
# How often a stop condition without a descriptor is asked while no packet arrives.
POLL_S = 0.1
# Above this snapshot length no packet can have been truncated (IPv4/IPv6
# total length is 16 bits; the largest link header adds far less than the
# margin up to libpcap's default of 262144).
UNTRUNCATED_SNAPLEN = 65535

DIRECTIONS: dict[Direction, int] = {"in": pcapy.PCAP_D_IN, "out": pcapy.PCAP_D_OUT,
                                    "inout": pcapy.PCAP_D_INOUT}

# Seconds signed, as libpcap's dispatch path hands them (and tcpdump sees them).
_META = struct.Struct("=iIII")
_PCAP_MAGICS: dict[bytes, Literal["little", "big"]] = {
    b"\xd4\xc3\xb2\xa1": "little", b"\x4d\x3c\xb2\xa1": "little",
    b"\xa1\xb2\xc3\xd4": "big", b"\xa1\xb2\x3c\x4d": "big"}
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


class PcapHeader(Protocol):
    """What pcapy-ng hands a dispatch() callback with each packet (a Pkthdr)."""

    def getts(self) -> tuple[int, int]: ...
    def getlen(self) -> int: ...


class PcapDumper(Protocol):
    """A pcapy-ng Dumper, of which only closing is used."""

    def close(self) -> None: ...


class PcapHandle(Protocol):
    """The part of a pcapy-ng handle (a Reader) this module uses; pcapy has no types."""

    def datalink(self) -> int: ...
    def setfilter(self, expression: str) -> None: ...
    def getfd(self) -> int: ...
    def next_batch(self, max_n: int) -> tuple[bytes, bytes]: ...
    def dispatch(self, max_n: int, callback: Callable[[PcapHeader, bytes], None]) -> int: ...
    def dump_open(self, path: str) -> PcapDumper: ...
    def stats(self) -> tuple[int, int, int]: ...
    def setdirection(self, direction: int) -> None: ...
    def setnonblock(self, on: int) -> None: ...


@frozen
class CaptureStats:
    """The kernel's counters as tcpdump prints them at the end of a capture."""

    received: int
    dropped: int
    ifdropped: int = 0


@frozen
class Wait:
    """No packet now: wait for the capture to turn readable, at most `seconds` (None: no limit)."""

    seconds: float | None


class CaptureSource:
    """The reading loop shared by the libpcap and AF_PACKET backends.

    A backend provides `live`, `read_batch(max_n)` (never blocks), `fileno()`
    and `close()`; this adds the loops every user wants.
    """

    live: bool
    name: str
    linktype: int
    snaplen: int

    def set_filter(self, expression: str) -> None:
        raise NotImplementedError

    def stats(self) -> CaptureStats | None:
        raise NotImplementedError

    def read_batch(self, max_n: int = BATCH) -> list[Packet]:
        raise NotImplementedError

    def fileno(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def batches(self, count: int = 0, stop: Stop | None = None, *,
                timeout_ns: int | None = None,
                until: Callable[[], object] | None = None) -> Iterator[list[Packet]]:
        """Batches until EOF, `count` packets, `timeout_ns` of capture, or a stop.

        Live, it sleeps in select() on the capture and on `stop.fd`, so a
        stop (a signal handled by `stop.on_signals()`) ends the wait at once,
        and no longer than the time left. `until` is a stop condition with no
        descriptor to wake a select (a threading.Event's `is_set`, a
        script's callable): asked before every read, and every `POLL_S` while
        no packet comes, since a capture may stay silent forever.
        """
        def stopped() -> bool:
            return (stop is not None and stop.requested) or (until is not None and bool(until()))

        for step in self.steps(count, stopped, timeout_ns, polled=until is not None):
            if isinstance(step, Wait):
                self.wait(step.seconds, None if stop is None else stop.fd)
            else:
                yield step

    def steps(self, count: int, stopped: Callable[[], bool], timeout_ns: int | None,
              polled: bool) -> Iterator[list[Packet] | Wait]:
        """The reading plan both loops follow: a batch to hand on, or how long to wait.

        The blocking loop (`batches`) sleeps in select; asyncio's waits on
        the running loop's reader. Either way the same rules end the capture:
        EOF, `count` packets, `timeout_ns` of capture, or `stopped()`, which
        is asked before every read and, when `polled`, every POLL_S.
        """
        left = count
        end = None if timeout_ns is None else time.monotonic_ns() + timeout_ns
        while not stopped():
            now = time.monotonic_ns()
            if end is not None and now >= end:
                return
            batch = self.read_batch(min(left, BATCH) if count else BATCH)
            if batch:
                if count and len(batch) > left:
                    batch = batch[:left]
                yield batch
                if count:
                    left -= len(batch)
                    if left <= 0:
                        return
            elif not self.live:
                return
            else:
                yield Wait(_wait_s(now, end, polled))

    def packets(self, count: int = 0) -> Iterator[Packet]:
        """Every packet, one at a time (see `batches` for the fast form)."""
        for batch in self.batches(count):
            yield from batch

    def wait(self, timeout: float | None, wake_fd: int | None = None) -> None:
        """Sleep until packets may be waiting, `wake_fd` is readable, or `timeout`."""
        fds = [self.fileno()] if wake_fd is None else [self.fileno(), wake_fd]
        select.select(fds, [], [], timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Capture(CaptureSource):
    """A libpcap handle, live or offline, with BPF filtering done in C.

    Open it with `Capture.open_live(...)` or `Capture.open_offline(path)`, optionally
    `set_filter(expr)`, then `read_batch()` (never blocks) together with
    `fileno()`/`wait()`, or simply iterate `packets()`.
    """

    def __init__(self, handle: PcapHandle, name: str, live: bool, snaplen: int,
                 path: str | None = None) -> None:
        self._h = handle
        self.name = name
        self.live = live
        self.snaplen = snaplen
        self._path = path
        self._filter = ""
        self._exact = snaplen <= UNTRUNCATED_SNAPLEN
        self._delivered = 0
        self._pending_error: str | None = None
        self.linktype = handle.datalink()

    # -- opening ------------------------------------------------------------
    @classmethod
    def open_live(cls, interface: str, *, snaplen: int = DEFAULT_SNAPLEN, promisc: bool = True,
                  buffer_kib: int | None = None, timeout_ms: int = DEFAULT_TIMEOUT_MS,
                  direction: Direction | None = None) -> Capture:
        """Open `interface` for capture; libpcap's refusal becomes one line."""
        if snaplen <= 0:
            snaplen = DEFAULT_SNAPLEN
        try:
            h = pcapy.create(interface)
            h.set_snaplen(snaplen)
            h.set_promisc(1 if promisc else 0)
            h.set_timeout(timeout_ms)
            if buffer_kib:
                h.set_buffer_size(buffer_kib * 1024)
            rc = h.activate()
        except pcapy.PcapError as e:
            raise CaptureError(f"{interface}: {e}") from None
        if rc < 0:
            raise _activate_error(interface, rc, snaplen, promisc)
        cap = cls(h, interface, True, snaplen)
        try:
            if direction and direction != "inout":
                h.setdirection(DIRECTIONS[direction])
            h.setnonblock(1)
        except pcapy.PcapError as e:
            raise CaptureError(f"{interface}: {e}") from None
        return cap

    @classmethod
    def open_offline(cls, path: str) -> Capture:
        """Open a pcap or pcapng file ('-' is standard input, and a FIFO or pipe will do).

        The file is opened once, by libpcap: a pipe can be read only once.
        What cannot be reopened (see `read_batch`) is read on the exact path.
        """
        try:
            h = pcapy.open_offline(path)
        except pcapy.PcapError as e:
            msg = str(e)
            raise CaptureError(msg if msg.startswith(path) else f"{path}: {msg}") from None
        regular = path != "-" and os.path.isfile(path)
        snaplen = _snapshot(h)
        if snaplen is None:
            snaplen = _file_snaplen(path) if regular else 0
        cap = cls(h, path, False, snaplen, path)
        cap._exact = cap._exact or not regular
        return cap

    # -- configuring ----------------------------------------------------------
    def set_filter(self, expression: str) -> None:
        """Compile and install a BPF filter; a bad one raises libpcap's message."""
        if not expression:
            return
        try:
            self._h.setfilter(expression)
        except pcapy.PcapError as e:
            raise CaptureError(f"bad filter expression: {e}") from None
        self._filter = expression

    def fileno(self) -> int:
        """A descriptor that select() reports readable when packets wait (live only)."""
        return self._h.getfd()

    # -- reading --------------------------------------------------------------
    def read_batch(self, max_n: int = BATCH) -> list[Packet]:
        """Up to `max_n` packets without blocking; [] means none now, or EOF offline.

        A corrupt or truncated file yields every good packet first; the error
        is raised by the call after them, the way tcpdump prints all it could
        read before reporting the damage.
        """
        if self._pending_error:
            msg, self._pending_error = self._pending_error, None
            raise CaptureError(f"{self.name}: {msg}")
        try:
            out = self._dispatch(max_n) if self._exact else self._next_batch(max_n)
        except pcapy.PcapError as e:
            if not self.live and not self._exact:
                # next_batch loses the packets already read in the failing call:
                # reread the tail exactly, packet by packet, up to the damage.
                self._exact = True
                self._reopen_at(self._delivered)
                return self.read_batch(max_n)
            raise CaptureError(f"{self.name}: {e}") from None
        self._delivered += len(out)
        return out

    def _next_batch(self, max_n: int) -> list[Packet]:
        data, meta = self._h.next_batch(max_n)
        return [(sec * 1_000_000_000 + usec * 1000, data[off:off + n], n)
                for sec, usec, off, n in _META.iter_unpack(meta)]

    def _dispatch(self, max_n: int) -> list[Packet]:
        out: list[Packet] = []
        add = out.append

        def take(hdr: PcapHeader, data: bytes) -> None:
            sec, usec = hdr.getts()
            add((sec * 1_000_000_000 + usec * 1000, data, hdr.getlen()))

        try:
            self._h.dispatch(max_n, take)
        except pcapy.PcapError as e:
            if not out:
                raise
            self._pending_error = str(e)
        return out

    def _reopen_at(self, skip: int) -> None:
        self._h = pcapy.open_offline(self._path)
        if self._filter:
            self._h.setfilter(self._filter)
        while skip > 0:
            n = self._h.dispatch(min(skip, 65536), _ignore)
            if n <= 0:
                break
            skip -= n

    def stats(self) -> CaptureStats | None:
        """Counters of a live capture (None offline, where libpcap has none)."""
        if not self.live:
            return None
        try:
            recv, drop, ifdrop = self._h.stats()
        except pcapy.PcapError:
            return None
        return CaptureStats(recv, drop, ifdrop)

    def close(self) -> None:
        close = getattr(self._h, "close", None)
        if close:
            close()


def _wait_s(now_ns: int, end_ns: int | None, polled: bool) -> float | None:
    """How long one wait for packets may sleep: to the end, and POLL_S when polled."""
    wait = None if end_ns is None else max(0, end_ns - now_ns) / 1e9
    if polled:
        return POLL_S if wait is None else min(wait, POLL_S)
    return wait


def _ignore(hdr: PcapHeader, data: bytes) -> None:
    """dispatch() callback that skips packets already delivered."""


def _activate_error(interface: str, rc: int, snaplen: int, promisc: bool) -> Exception:
    """libpcap's own sentence for a failed activate.

    pcapy-ng returns activate()'s status code but not pcap_geterr(); open_live
    fails the same way and does raise the message, so ask it.
    """
    try:
        pcapy.open_live(interface, snaplen, int(promisc), 0)
        msg = f"{interface}: cannot activate capture (libpcap status {rc})"
    except pcapy.PcapError as e:
        msg = str(e)
    if rc == -8:  # PCAP_ERROR_PERM_DENIED
        return PermissionNeeded(f"{msg}; capturing needs root or CAP_NET_RAW")
    if rc in (-5, -9):  # PCAP_ERROR_NO_SUCH_DEVICE, PCAP_ERROR_IFACE_NOT_UP
        return InterfaceError(msg)
    return CaptureError(msg)


def _snapshot(h: PcapHandle) -> int | None:
    """libpcap's pcap_snapshot() of an open file, which tcpdump's banner prints.

    pcapy-ng does not offer it, but a dumper starts its file with a pcap header
    holding it (in host byte order): asked of libpcap, not read from the file,
    because a pipe can be read only once. None where no dumper can be made
    (link types libpcap 1.9.1 cannot save, no descriptor left).
    """
    try:
        fd = os.memfd_create("snapshot")
    except OSError:
        return None
    try:
        h.dump_open(f"/proc/self/fd/{fd}").close()
        head = os.pread(fd, 24, 0)
    except (pcapy.PcapError, OSError):
        return None
    finally:
        os.close(fd)
    return int.from_bytes(head[16:20], sys.byteorder) if len(head) == 24 else None


def _file_snaplen(path: str) -> int:
    """The snapshot length a capture file declares, 0 if it cannot tell.

    Zero sends the reader down the exact path, which is always correct.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return 0
    if head[:4] in _PCAP_MAGICS and len(head) >= 24:
        return int.from_bytes(head[16:20], _PCAP_MAGICS[head[:4]])
    if head[:4] == _PCAPNG_MAGIC and len(head) >= 28:
        order = "<" if head[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        shb_len = struct.unpack_from(order + "I", head, 4)[0]
        if shb_len + 16 <= len(head):
            btype, _, _, _, snap = struct.unpack_from(order + "IIHHI", head, shb_len)
            if btype == 1:  # Interface Description Block; 0 means no limit
                return int(snap) or DEFAULT_SNAPLEN
    return 0
