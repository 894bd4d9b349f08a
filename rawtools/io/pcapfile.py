"""Classic pcap files: a writer that never loses a packet, and a reader.

The writer flushes after every record (or every `flush_every` records) so a
capture killed by Ctrl-C or SIGTERM is still a valid file that tcpdump reads
to the last whole packet. Nanosecond resolution is the default because the
kernel timestamps RTTs in nanoseconds and a replay must reproduce them exactly;
tcpdump, tshark and Wireshark all read the nanosecond magic.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import dpkt

from rawtools.errors import CaptureError
from rawtools.wire.link import LINKTYPE_RAW

MAGIC_US = 0xA1B2C3D4
MAGIC_NS = 0xA1B23C4D


class RecordWriter:
    """What pcap and pcapng writers share: counting records and flushing in time.

    `flush_every` trades system calls for how much an abrupt end may cut:
    1 (the default) leaves a whole file after every record.

    Records are gathered here and handed to `out` whole, so that when the
    device refuses more (a full disk, a file size limit) the writer knows
    exactly which bytes arrived: it cuts the file back to the last whole
    record, so what was written stays a valid capture, and raises a
    `CaptureError` (`FILE: No space left on device`) that every tool prints
    as one line. After that the writer writes nothing more. `out` is best
    unbuffered (`buffering=0`): a buffered stream hides how much reached
    the device, and keeps what it could not write to fail again at exit.
    """

    def __init__(self, out: BinaryIO, flush_every: int = 1) -> None:
        self.out = out
        self.flush_every = max(1, flush_every)
        self.pending = 0
        self.count = 0
        self.failed = False
        self._buf = bytearray()
        self._ends: list[int] = []  # where each record (or file header) ends in _buf
        self._kept = 0  # bytes of `out` holding whole records, all written

    def _put(self, block: bytes) -> None:
        self._buf += block
        self._ends.append(len(self._buf))

    def _wrote(self, record: bytes) -> None:
        self._put(record)
        self.count += 1
        self.pending += 1
        if self.pending >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Hand every whole record gathered to `out`; a refusal raises CaptureError."""
        self.pending = 0
        if self.failed or not self._buf:
            return
        done = 0
        try:
            with memoryview(self._buf) as view:
                while done < len(view):
                    n = self.out.write(view[done:])
                    done = len(view) if n is None else done + n
            self.out.flush()
        except OSError as e:
            self.failed = True
            self._cut_to_whole(done)
            raise CaptureError(f"{self._name()}: {e.strerror or e}") from None
        finally:
            self._buf.clear()
            self._ends.clear()
        self._kept += done

    def _cut_to_whole(self, done: int) -> None:
        """Truncate a partly written record off the file, where the file can be cut."""
        whole = max((end for end in self._ends if end <= done), default=0)
        if whole < done:
            with contextlib.suppress(OSError, ValueError):
                self.out.truncate(self._kept + whole)

    def _name(self) -> str:
        name = getattr(self.out, "name", None)
        return name if isinstance(name, str) else "standard output"

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.out.close()


class PcapWriter(RecordWriter):
    """Append packets to a pcap file (or any binary stream) as they happen."""

    def __init__(self, out: BinaryIO, linktype: int = LINKTYPE_RAW, snaplen: int = 262144,
                 nanoseconds: bool = True, flush_every: int = 1) -> None:
        super().__init__(out, flush_every)
        self.ns = nanoseconds
        magic = MAGIC_NS if nanoseconds else MAGIC_US
        self._put(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
        self.flush()

    @classmethod
    def open(cls, path: str, linktype: int = LINKTYPE_RAW, snaplen: int = 262144,
             nanoseconds: bool = True, flush_every: int = 1) -> PcapWriter:
        """Create (truncate) `path`; failures become one-line CaptureErrors."""
        try:
            f = open(path, "wb", buffering=0)  # noqa: SIM115 - lives as long as the writer
        except OSError as e:
            raise CaptureError(f"{path}: {e.strerror}") from None
        try:
            return cls(f, linktype, snaplen, nanoseconds, flush_every)
        except BaseException:
            f.close()
            raise

    def write(self, ts_ns: int, data: bytes, orig_len: int | None = None) -> None:
        """One record stamped `ts_ns` (nanoseconds since the epoch)."""
        sec, frac = divmod(ts_ns, 1_000_000_000)
        if not self.ns:
            frac //= 1000
        n = len(data)
        # The field holds 32 bits: a time read as before 1970 (a record's seconds
        # with bit 31 set) goes back as the bits it came from.
        self._wrote(struct.pack("<IIII", sec & 0xFFFFFFFF, frac, n, orig_len or n) + data)


def read_packets(path: str) -> tuple[int, Iterator[tuple[int, bytes]]]:
    """(linktype, records) of a pcap or pcapng file, timestamps in nanoseconds.

    A truncated last record ends the iteration rather than raising: that is
    exactly what an interrupted capture looks like and everything before it
    is good.
    """
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed by the generator
    except OSError as e:
        raise CaptureError(f"{path}: {e.strerror}") from None
    head = f.read(4)
    f.seek(0)
    try:
        if head == b"\x0a\x0d\x0d\x0a":
            reader = dpkt.pcapng.Reader(f)
            return reader.datalink(), _pcapng_records(f, reader)
        magic = struct.unpack("<I", head)[0] if len(head) == 4 else 0
        swapped = struct.unpack(">I", head)[0] if len(head) == 4 else 0
        if MAGIC_NS not in (magic, swapped) and MAGIC_US not in (magic, swapped):
            raise ValueError("not a pcap or pcapng file")
        reader = dpkt.pcap.Reader(f)
    except (ValueError, dpkt.UnpackError, struct.error) as e:
        f.close()
        raise CaptureError(f"{path}: not a readable capture file ({e})") from None
    nano = MAGIC_NS in (magic, swapped)
    return reader.datalink(), _pcap_records(f, nano)


def _pcap_records(f: BinaryIO, nano: bool) -> Iterator[tuple[int, bytes]]:
    # dpkt's float timestamps would lose nanoseconds, so read the records here.
    with f:
        f.seek(0)
        head = f.read(24)
        endian = "<" if struct.unpack("<I", head[:4])[0] in (MAGIC_US, MAGIC_NS) else ">"
        rec = struct.Struct(endian + "IIII")
        mult = 1 if nano else 1000
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            sec, frac, caplen, _ = rec.unpack(h)
            data = f.read(caplen)
            if len(data) < caplen:
                return
            yield sec * 1_000_000_000 + frac * mult, data


def _pcapng_records(f: BinaryIO,
                    reader: Iterable[tuple[float, bytes]]) -> Iterator[tuple[int, bytes]]:
    with f:
        try:
            for ts, data in reader:
                yield round(ts * 1_000_000_000), bytes(data)
        except (dpkt.UnpackError, struct.error, ValueError):
            return
