"""`rawtools.sniff(...)`: captured packets for Python scripts, decoded on demand.

    import rawtools
    for pkt in rawtools.sniff("eth0", "udp port 53", count=10):
        print(pkt.summary)

Each `SniffedPacket` keeps the raw bytes and decodes only what is asked for
(`summary`, the tcpdump-style line; `fields`, the --json object), so a
script that only counts or saves packets never pays for decoding.

Tools that need packets but not decoding (udpcksum, tests) use the capture
handles re-exported here: `Capture` (libpcap, live or offline) and
`PacketCapture` (AF_PACKET ring).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from rawtools.errors import InterfaceError, UsageError
from rawtools.io.capture import DEFAULT_SNAPLEN, Capture, CaptureSource, CaptureStats, Direction
from rawtools.tools.options import INT_MAX, bounded

if TYPE_CHECKING:
    from rawtools.io.afpacket import PacketCapture
    from rawtools.tools.sniff.decode import Decoder

# libpcap, or an AF_PACKET ring (rawtools.io.afpacket).
Backend = Literal["pcap", "packet"]

__all__ = ["Capture", "CaptureStats", "PacketCapture", "SniffedPacket", "sniff"]


def __getattr__(name: str) -> Any:
    # The AF_PACKET backend is loaded only when asked for: `sniff -r` and
    # libpcap captures, nearly every run, never touch it.
    if name == "PacketCapture":
        from rawtools.io.afpacket import PacketCapture

        return PacketCapture
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class SniffedPacket:
    """One captured packet: timestamp (ns since the epoch), bytes, wire length."""

    ts_ns: int
    data: bytes
    orig_len: int
    linktype: int
    _decoder: Decoder = field(repr=False, compare=False)

    @cached_property
    def summary(self) -> str:
        """tcpdump's one-line description, without the timestamp."""
        return self._decoder.line(self.ts_ns, self.data, self.orig_len)

    @cached_property
    def fields(self) -> dict[str, Any]:
        """The decoded fields, as `rawtools sniff --json` prints them."""
        return self._decoder.record(self.ts_ns, self.data, self.orig_len)


def sniff(interface: str | None = None, filter: str = "", *, count: int = 0,
          file: str | None = None, snaplen: int = DEFAULT_SNAPLEN, promisc: bool = True,
          immediate: bool = False, backend: Backend = "pcap", direction: Direction | None = None,
          buffer_kib: int | None = None, numeric: bool = True,
          verbose: int = 0) -> Iterator[SniffedPacket]:
    """Packets from `interface` (or from `file`, a pcap/pcapng) matching `filter`.

    Stops after `count` packets (0: at end of file, or never when live; the
    caller breaks out of the loop). `immediate=True` uses the AF_PACKET
    backend so each packet arrives at once instead of up to 50 ms late.
    Errors are `rawtools.errors` exceptions with one-line messages; a value
    out of range is refused by this call, before the first packet is asked for.
    """
    check_capture(count, snaplen, buffer_kib)
    if not isinstance(filter, str) or "\0" in filter:
        raise UsageError(f"filter: expected a BPF expression (a string), not {filter!r}")
    return _sniffed(interface, filter, count, file, snaplen, promisc, immediate, backend,
                    direction, buffer_kib, numeric, verbose)


def _sniffed(interface: str | None, filter: str, count: int, file: str | None, snaplen: int,
             promisc: bool, immediate: bool, backend: Backend, direction: Direction | None,
             buffer_kib: int | None, numeric: bool, verbose: int) -> Iterator[SniffedPacket]:
    from rawtools.tools.sniff.decode import Decoder

    source = open_capture(interface, filter, file=file, snaplen=snaplen, promisc=promisc,
                          immediate=immediate, backend=backend, direction=direction,
                          buffer_kib=buffer_kib)
    with source:
        decoder = Decoder(source.linktype, numeric=numeric, verbose=verbose, ts_style="none")
        linktype = source.linktype
        for ts, data, orig in source.packets(count):
            yield SniffedPacket(ts, data, orig, linktype, decoder)


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
