"""A second process decoding part of a capture file, for a second core.

Decoding, not reading, limits `sniff -r`. The helper is a fork that opens
the same file with the same filter and count, so it reads the very same
batches; of each it decides which packets it decodes itself (whole TCP
connections, and enough of the packets that touch none to even out the
work: see rawtools.tools.sniff.split) and sends which ones, their lines,
and the TCP origins it set back through a pipe, while this process decodes
the rest and merges the two in capture order. The output is byte for byte
one process's.

The helper ignores SIGINT/SIGTERM and only lives while it is read from:
when this process stops early (Ctrl-C, -c, `| head`) and closes the pipe,
the helper's next write kills it (SIGPIPE). If it fails or dies, its
packets are simply decoded here, from the first batch it did not send:
this process's sequence tracker has its connections' origins up to there.
"""

from __future__ import annotations

import contextlib
import fcntl
import marshal
import os
import signal
import struct
import sys
from collections.abc import Callable
from itertools import compress
from typing import BinaryIO

from rawtools.io.capture import Capture, Packet
from rawtools.tools.sniff.decode import Decoder
from rawtools.tools.sniff.split import Split
from rawtools.tools.sniff.tcpseq import Conn

# What the helper sends for each batch: which packets it decoded (see `Split.plan`),
# their lines, and the TCP origins it set meanwhile (see `TcpSequences.replay`).
Journal = list[tuple[Conn, int, int]]

# Files smaller than this are decoded by one process: a helper's fork and
# second read of the file cost more than it saves on them.
SPLIT_MIN_BYTES = 4 << 20
# Room in the pipe for a few batches, so the helper runs ahead instead of in lockstep.
_PIPE_SIZE = 1 << 20
_LEN = struct.Struct("<I")
# Turns a share mask (1: the helper's packet) into this process's (1: its own).
_OWN = bytes.maketrans(b"\0\1", b"\1\0")


class Helper:
    """The parent's end of a running helper: its lines, merged with the parent's own."""

    def __init__(self, pid: int, fd: int, decoder: Decoder) -> None:
        self._pid = pid
        self._pipe: BinaryIO | None = os.fdopen(fd, "rb")
        self._decoder = decoder

    @classmethod
    def start(cls, decoder: Decoder, path: str, expression: str, count: int) -> Helper | None:
        """A running helper for the text output of `path`, or None where one cannot pay
        (or cannot work)."""
        if path == "-" or not decoder.splittable:
            return None
        try:
            if os.path.getsize(path) < SPLIT_MIN_BYTES or len(os.sched_getaffinity(0)) < 2:
                return None
        except OSError:
            return None
        r, w = os.pipe()
        with contextlib.suppress(OSError):
            fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the helper: never returns
            os.close(r)
            code = 0
            try:
                _serve(decoder, path, expression, count, w)
            except BaseException:  # noqa: BLE001 - the parent decodes what is missing
                code = 1
            os._exit(code)
        os.close(w)
        return cls(pid, r, decoder)

    def _receive(self, size: int) -> tuple[bytes, list[str], Journal] | None:
        """The helper's share of the next batch (see `Split.plan`), its lines and its
        journal; None once failed."""
        if self._pipe is None:
            return None
        try:
            head = self._pipe.read(4)
            mask, lines, journal = marshal.loads(self._pipe.read(_LEN.unpack(head)[0]))
        except (struct.error, EOFError, ValueError, TypeError, OSError):
            mask = lines = journal = None
        if not (isinstance(mask, bytes) and isinstance(lines, list) and len(mask) == size
                and len(lines) == mask.count(1) and isinstance(journal, list)):
            self._pipe.close()
            self._pipe = None
            return None
        return mask, lines, journal

    def render(self, batch: list[Packet]) -> str:
        """The batch's text, like `Decoder.lines`: own lines and the helper's, in order."""
        decoder = self._decoder
        got = self._receive(len(batch))
        if got is None:
            return decoder.lines(batch)
        mask, theirs, journal = got
        if journal and decoder.seqs is not None:
            # Their connections' origins, for the day this process decodes them too.
            decoder.seqs.replay(journal)
        own = iter(decoder.texts(list(compress(batch, mask.translate(_OWN))))).__next__
        other = iter(theirs).__next__
        return "\n".join([other() if m else own() for m in mask]) + "\n"

    def close(self) -> None:
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
        os.waitpid(self._pid, 0)


def _serve(decoder: Decoder, path: str, expression: str, count: int, w: int) -> None:
    """The helper's life: its share of every batch, decoded and written to `w`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.set_wakeup_fd(-1)
    split, texts, dumps, pack = Split(decoder), decoder.texts, marshal.dumps, _LEN.pack
    journal: Journal = []
    if decoder.seqs is not None:
        decoder.seqs.journal = journal
    with Capture.open_offline(path) as cap:
        cap.set_filter(expression)
        for batch in cap.batches(count):
            mask, known = split.plan(batch)
            blob = dumps((mask, _lines(texts, batch, mask, known), journal))
            journal.clear()
            data = memoryview(pack(len(blob)) + blob)
            while data:
                data = data[os.write(w, data):]


def _lines(texts: Callable[[list[Packet]], list[str]], batch: list[Packet], mask: bytes,
           known: dict[int, str]) -> list[str]:
    """The lines of the helper's packets of `batch`: those `known` already, `texts` of
    the others."""
    if not known:
        return texts(list(compress(batch, mask)))
    todo = iter(texts([p for i, p in enumerate(batch) if mask[i] and i not in known])).__next__
    return [known[i] if i in known else todo() for i in compress(range(len(batch)), mask)]
