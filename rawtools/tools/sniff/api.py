"""`rawtools.sniff(...)`: captured packets for Python scripts, decoded on demand.

    import rawtools
    for pkt in rawtools.sniff("eth0", "udp port 53", count=10):
        print(pkt.summary)

    cap = rawtools.sniff("eth0", "icmp", timeout=5, write="icmp.pcap")
    n = sum(1 for _ in cap)
    print(n, cap.stats.received, cap.stats.dropped)

Each `SniffedPacket` keeps the raw bytes and decodes only what is asked for
(`summary`, the tcpdump-style line; `fields`, the --json object), so a
script that only counts or saves packets never pays for decoding.

Tools that need packets but not decoding (udpcksum, tests) use the capture
handles re-exported here: `Capture` (libpcap, live or offline) and
`PacketCapture` (AF_PACKET ring).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, cast

from rawtools.errors import InterfaceError, UsageError
from rawtools.io.capture import DEFAULT_SNAPLEN, Capture, CaptureSource, CaptureStats, Direction
from rawtools.tools.options import INT_MAX, bounded, file_name, flag, seconds
from rawtools.tools.sniff.session import SessionOptions, SniffedPacket, SniffSession

if TYPE_CHECKING:
    import threading

    from rawtools.io.afpacket import PacketCapture

# libpcap, or an AF_PACKET ring (rawtools.io.afpacket).
Backend = Literal["pcap", "packet"]

__all__ = ["Capture", "CaptureStats", "PacketCapture", "SniffSession", "SniffedPacket", "sniff"]


def __getattr__(name: str) -> Any:
    # The AF_PACKET backend is loaded only when asked for: `sniff -r` and
    # libpcap captures, nearly every run, never touch it.
    if name == "PacketCapture":
        from rawtools.io.afpacket import PacketCapture

        return PacketCapture
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sniff(interface: str | None = None, filter: str = "", *, count: int = 0,
          file: str | None = None, snaplen: int = DEFAULT_SNAPLEN, promisc: bool = True,
          immediate: bool = False, backend: Backend = "pcap", direction: Direction | None = None,
          buffer_kib: int | None = None, numeric: bool = True, verbose: int = 0,
          timeout: float | None = None,
          stop: threading.Event | Callable[[], object] | None = None,
          write: str | None = None, pcapng: bool = False) -> SniffSession:
    """Packets from `interface` (or from `file`, a pcap/pcapng) matching `filter`.

    Iterate the returned `SniffSession`; it ends after `count` packets (0:
    no limit), after `timeout` seconds of capture, once `stop` (a
    threading.Event, or a callable returning true) is set, or at the end of
    a file; a live capture without any of them runs until the caller breaks
    out. `stop` is asked at least every 0.1 s even while no packet arrives.
    Then `.stats` holds the kernel's counters (`received`, `dropped`,
    `ifdropped`; None for a file) and `.captured` the packets yielded.
    `write` saves every packet yielded to a pcap file (pcapng with
    `pcapng=True`), flushed as it goes. `immediate=True` uses the AF_PACKET
    backend so each packet arrives at once instead of up to 50 ms late.
    Errors are `rawtools.errors` exceptions with one-line messages; a value
    out of range is refused by this call, before the first packet is asked for.
    """
    check_capture(count, snaplen, buffer_kib)
    if not isinstance(filter, str) or "\0" in filter:
        raise UsageError(f"filter: expected a BPF expression (a string), not {filter!r}")
    options = SessionOptions(
        count=count, timeout_ns=None if timeout is None else seconds("timeout", timeout),
        until=_stop_condition(stop), write=file_name("write", write),
        pcapng=flag("pcapng", pcapng), numeric=numeric, verbose=verbose)
    if pcapng and write is None:
        raise UsageError("pcapng=True needs write=FILE")

    def opener() -> CaptureSource:
        return open_capture(interface, filter, file=file, snaplen=snaplen, promisc=promisc,
                            immediate=immediate, backend=backend, direction=direction,
                            buffer_kib=buffer_kib)

    return SniffSession(opener, options)


def _stop_condition(stop: object) -> Callable[[], object] | None:
    """What the capture asks to know whether to stop: an Event's is_set, or the callable."""
    if stop is None:
        return None
    is_set = getattr(stop, "is_set", None)
    if callable(is_set):
        return cast("Callable[[], object]", is_set)
    if callable(stop):
        return cast("Callable[[], object]", stop)
    raise UsageError(f"invalid stop: {stop!r} (a threading.Event or a callable)")


def open_capture(interface: str | None = None, filter: str = "", *, file: str | None = None,
                 snaplen: int = DEFAULT_SNAPLEN, promisc: bool = True, immediate: bool = False,
                 backend: Backend = "pcap", direction: Direction | None = None,
                 buffer_kib: int | None = None) -> CaptureSource:
    """An open, filtered capture handle: the building block under `sniff`."""
    check_capture(0, snaplen, buffer_kib)
    if file is not None:
        source: CaptureSource = Capture.open_offline(file)
    else:
        interface = interface or _default_interface()
        if immediate or backend == "packet":
            from rawtools.io.afpacket import PacketCapture

            source = PacketCapture(interface, snaplen=snaplen, promisc=promisc,
                                   buffer_kib=buffer_kib, direction=direction,
                                   immediate=immediate)
        else:
            source = Capture.open_live(interface, snaplen=snaplen, promisc=promisc,
                                       buffer_kib=buffer_kib, direction=direction)
    try:
        source.set_filter(filter)
    except BaseException:
        source.close()
        raise
    return source


def check_capture(count: object, snaplen: object, buffer_kib: object) -> None:
    """tcpdump's limits on -c, -s and -B, refused in its words, for the CLI and the API.

    libpcap and the kernel take C ints and 32-bit fields: a larger value would
    end as an OverflowError or struct.error deep in a backend.
    """
    bounded(count, 0, sys.maxsize, f"invalid packet count {count}")
    bounded(snaplen, 0, DEFAULT_SNAPLEN,
            f"invalid snaplen {snaplen} (must be >= 0 and <= {DEFAULT_SNAPLEN})")
    if buffer_kib is not None:
        bounded(buffer_kib, 1, INT_MAX // 1024, f"invalid packet buffer size {buffer_kib}")


def _default_interface() -> str:
    """tcpdump's choice when no interface is named: the first up and not loopback."""
    from rawtools.net.interfaces import default_interface

    name = default_interface()
    if name is None:
        raise InterfaceError("no interface is up to capture on; name one with -i")
    return name
