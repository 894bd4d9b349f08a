"""`-w`: saving packets, with tcpdump's -C/-G/-W rotation and file names.

Names follow tcpdump so scripts written for it keep working: with `-C` the
files are FILE, FILE1, FILE2, ...; with `-W N` as well the number is always
present and zero-padded to the width of N-1 (FILE0 .. FILE9 for -W 10) and
the count wraps, overwriting the oldest; with `-G` FILE is a strftime()
pattern expanded at each rotation, and `-W N` ends the capture after N files.

Records are buffered and flushed after every batch the capture hands over
(one wake-up), and on close, so a capture ended by a count, Ctrl-C or SIGTERM
leaves a complete file; only a SIGKILL can lose the last batch.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import BinaryIO

from rawtools.errors import CaptureError, UsageError
from rawtools.io.capture import CaptureStats, Packet
from rawtools.io.pcapfile import PcapWriter
from rawtools.io.pcapng import PcapngWriter
from rawtools.tools.options import INT_MAX, bounded, positive

_SUFFIX = {"k": 1024, "m": 1024 * 1024, "g": 1024 * 1024 * 1024}
# tcpdump's limit: the size must fit a signed 64-bit file offset.
_MAX_FILE_SIZE = 2**63 - 1


def parse_size(text: str) -> int:
    """-C's argument in bytes: millions of bytes, or k/m/g (KiB/MiB/GiB) as tcpdump.

    Refused in tcpdump's words: nothing, zero, below zero, inf or nan is an
    `invalid file size`; more bytes than a file offset holds is `too large`.
    """
    t = text.strip().lower()
    unit = _SUFFIX.get(t[-1:], 1_000_000)
    try:
        number = float(t[:-1] if t[-1:] in _SUFFIX else t)
    except ValueError:
        raise UsageError(f"invalid file size {text}") from None
    scaled = positive(number, f"invalid file size {text}") * unit
    if scaled > _MAX_FILE_SIZE:  # also a finite number whose product overflows to inf
        raise UsageError(f"file size {text} is too large")
    value = int(scaled)
    if value <= 0:
        raise UsageError(f"invalid file size {text}")
    return value


def check_rotation(seconds: int, files: int | None) -> None:
    """-G and -W as tcpdump takes them: -G 0 (no rotation) up to INT_MAX, -W from 1."""
    bounded(seconds, 0, INT_MAX, f"invalid number of seconds {seconds}")
    if files is not None:
        bounded(files, 1, INT_MAX, f"invalid number of output files {files}")


def rotated_name(pattern: str, count: int, width: int, when: float | None) -> str:
    """tcpdump's MakeFilename: strftime for -G, then the -C/-W sequence number."""
    name = time.strftime(pattern, time.localtime(when)) if when is not None else pattern
    if count == 0 and width == 0:
        return name
    return f"{name}{count:0{width}d}"


class CaptureWriter:
    """Writes packets to one file, a rotating set of files, or standard output.

    `stats` is asked for the capture's counters whenever a pcapng file is
    closed, so each file's statistics block says how complete it is.
    """

    writer: PcapWriter | PcapngWriter

    def __init__(self, path: str, linktype: int, snaplen: int, *, pcapng: bool = False,
                 size: int = 0, seconds: int = 0, files: int | None = None,
                 if_name: str | None = None,
                 stats: Callable[[], CaptureStats | None] = lambda: None,
                 clock: Callable[[], float] = time.time) -> None:
        if path == "-" and (size or seconds):
            raise UsageError("-C and -G need a file name, not '-' (standard output)")
        check_rotation(seconds, files)
        if files and not (size or seconds):
            raise UsageError("-W needs -C or -G")
        self.path = path
        self.linktype, self.snaplen, self.pcapng = linktype, snaplen, pcapng
        self.size, self.seconds, self.files = size, seconds, files or 0
        self.if_name = if_name
        self.stats = stats
        self.clock = clock
        # tcpdump numbers -C files with as many digits as -W's largest index.
        self.width = len(str(self.files - 1)) if size and self.files > 1 else 0
        self.size_count = 0
        self.time_count = 0
        self.started = clock() if seconds else None
        self.finished = False  # -G with -W: the last file is full, stop capturing
        self.count = 0
        self._open()

    def _open(self) -> None:
        # Unbuffered: the writers gather each batch themselves, and must learn exactly
        # how much a full device took (see `RecordWriter`).
        if self.path == "-":
            sys.stdout.flush()
            out: BinaryIO = open(sys.stdout.fileno(), "wb", buffering=0,  # noqa: SIM115
                                 closefd=False)
        else:
            name = rotated_name(self.path, self.size_count, self.width, self.started)
            try:
                out = open(name, "wb", buffering=0)  # noqa: SIM115 - closed in _close
            except OSError as e:
                raise CaptureError(f"{name}: {e.strerror}") from None
        never = 1 << 62  # flushed per batch by write_batch, not per record
        try:
            if self.pcapng:
                self.writer = PcapngWriter(out, self.linktype, self.snaplen, self.if_name,
                                           flush_every=never)
                self.bytes = self.writer.bytes
            else:
                self.writer = PcapWriter(out, self.linktype, self.snaplen, flush_every=never)
                self.bytes = 24
        except BaseException:
            out.close()
            raise

    def _close(self) -> None:
        if isinstance(self.writer, PcapngWriter) and not self.writer.failed:
            self.writer.write_statistics(self.stats(), time.time_ns())
        self.writer.close()

    def _rotate_if_due(self) -> None:
        if self.seconds and self.started is not None:
            now = self.clock()
            if now - self.started >= self.seconds:
                self.time_count += 1
                if self.files and self.time_count >= self.files:
                    self.finished = True
                    return
                self._close()
                self.started = now
                self.size_count = 0
                self._open()
                return
        if self.size and self.bytes > self.size:
            self.size_count += 1
            if self.files and self.size_count >= self.files:
                self.size_count = 0
            self._close()
            self._open()

    def write_batch(self, batch: list[Packet], *, flush: bool = True) -> int:
        """Write a batch; returns how many were written (fewer once -G -W is done).

        `flush=False` leaves the records buffered for a later `flush()`: the
        Python API writes each packet just before handing it over, so that the
        file never holds one the script did not see, and flushes per batch.
        """
        written = 0
        rotating = self.size or self.seconds
        pcapng = self.pcapng
        for ts, data, orig in batch:
            if rotating:
                self._rotate_if_due()
                if self.finished:
                    break
            self.writer.write(ts, data, orig)
            self.bytes += (32 + len(data) + (-len(data) % 4)) if pcapng else 16 + len(data)
            written += 1
        self.count += written
        if flush:
            self.writer.flush()
        return written

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self._close()
