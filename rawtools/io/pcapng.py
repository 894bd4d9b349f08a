"""A pcapng writer, for captures that should carry their own statistics.

Classic pcap has nowhere to say how many packets the kernel dropped; pcapng's
Interface Statistics Block does, so a file handed to someone else still tells
them whether it is complete. One section, one interface, nanosecond
timestamps (`if_tsresol` = 9) because the AF_PACKET backend delivers them.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from rawtools.io.capture import CaptureStats
from rawtools.io.pcapfile import RecordWriter

SHB, IDB, EPB, ISB = 0x0A0D0D0A, 1, 6, 5
BYTE_ORDER_MAGIC = 0x1A2B3C4D
OPT_END = 0
SHB_USERAPPL = 4
IF_NAME, IF_TSRESOL = 2, 9
ISB_STARTTIME, ISB_ENDTIME, ISB_IFDROP = 2, 3, 5
ISB_FILTERACCEPT, ISB_OSDROP, ISB_USRDELIV = 6, 7, 8

_EPB_HEAD = struct.Struct("<IIIIIII")
_TS_BITS = (1 << 64) - 1


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + _pad(value)


def _block(btype: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


def _ts(ts_ns: int) -> bytes:
    return struct.pack("<II", ts_ns >> 32, ts_ns & 0xFFFFFFFF)


class PcapngWriter(RecordWriter):
    """Same calls as `pcapfile.PcapWriter`, plus `write_statistics` for the ISB."""

    def __init__(self, out: BinaryIO, linktype: int, snaplen: int = 262144,
                 if_name: str | None = None, flush_every: int = 1) -> None:
        super().__init__(out, flush_every)
        self.first_ns = self.last_ns = 0
        shb = struct.pack("<IHHq", BYTE_ORDER_MAGIC, 1, 0, -1)
        shb += _option(SHB_USERAPPL, b"rawtools sniff") + _option(OPT_END, b"")
        idb = struct.pack("<HHI", linktype, 0, snaplen)
        if if_name:
            idb += _option(IF_NAME, if_name.encode())
        idb += _option(IF_TSRESOL, b"\x09") + _option(OPT_END, b"")
        head = _block(SHB, shb) + _block(IDB, idb)
        self.bytes = len(head)
        self._put(head)
        self.flush()

    def write(self, ts_ns: int, data: bytes, orig_len: int | None = None) -> None:
        """One Enhanced Packet Block for interface 0."""
        n = len(data)
        pad = -n % 4
        ts_ns &= _TS_BITS  # a time before 1970 as the 64-bit field's two's complement
        total = 32 + n + pad
        self.bytes += total
        if not self.count:
            self.first_ns = ts_ns
        self.last_ns = ts_ns
        self._wrote(_EPB_HEAD.pack(EPB, total, 0, ts_ns >> 32, ts_ns & 0xFFFFFFFF, n,
                                   orig_len or n) + data + b"\0" * pad
                    + total.to_bytes(4, "little"))

    def write_statistics(self, stats: CaptureStats | None, now_ns: int) -> None:
        """The Interface Statistics Block: what the kernel saw and what we kept."""
        opts = b""
        if self.count:
            opts += _option(ISB_STARTTIME, _ts(self.first_ns)) + _option(ISB_ENDTIME,
                                                                          _ts(self.last_ns))
        if stats is not None:
            opts += _option(ISB_IFDROP, struct.pack("<Q", stats.ifdropped))
            opts += _option(ISB_FILTERACCEPT, struct.pack("<Q", stats.received))
            opts += _option(ISB_OSDROP, struct.pack("<Q", stats.dropped))
        opts += _option(ISB_USRDELIV, struct.pack("<Q", self.count)) + _option(OPT_END, b"")
        block = _block(ISB, struct.pack("<I", 0) + _ts(now_ns) + opts)
        self.bytes += len(block)
        self._put(block)
