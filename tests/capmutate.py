"""A seeded mutator of capture files: the damage real files and hostile users bring.

Each mutation takes the bytes of a pcap or pcapng file and a `random.Random`
and returns new bytes, so a case is reproduced from its seed alone. They
know just enough of both formats to hit the fields readers trust: record
and block lengths, the snapshot length, the link type.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
               b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
IDB = 1


def is_pcapng(data: bytes) -> bool:
    return data[:4] == PCAPNG_SHB


def _pcap_records(data: bytes) -> tuple[str, list[int]]:
    """(byte order, offset of each whole record header) of a classic pcap."""
    order = PCAP_MAGICS[data[:4]]
    offsets, at = [], 24
    while at + 16 <= len(data):
        caplen = struct.unpack_from(order + "I", data, at + 8)[0]
        if at + 16 + caplen > len(data):
            break
        offsets.append(at)
        at += 16 + caplen
    return order, offsets


def _pcapng_blocks(data: bytes) -> tuple[str, list[tuple[int, int]]]:
    """(byte order, (offset, type) of each whole block) of a pcapng file."""
    order = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    blocks, at = [], 0
    while at + 12 <= len(data):
        btype, length = struct.unpack_from(order + "II", data, at)
        if length < 12 or at + length > len(data):
            break
        blocks.append((at, btype))
        at += length
    return order, blocks


def _put(data: bytes, at: int, fmt: str, *values: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, at, *values)
    return bytes(out)


def bit_flips(data: bytes, rng: random.Random) -> bytes:
    """A few bits flipped, half the time within the first 64 bytes (the headers)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        span = min(len(out), 64) if rng.random() < 0.5 else len(out)
        at = rng.randrange(span)
        out[at] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncation(data: bytes, rng: random.Random) -> bytes:
    """The file cut anywhere, as a capture killed mid-write or a partial download."""
    return data[:rng.randrange(1, len(data))]


def length_beyond_file(data: bytes, rng: random.Random) -> bytes:
    """A record (or block) claiming more bytes than the file has left."""
    if is_pcapng(data):
        order, blocks = _pcapng_blocks(data)
        at, _ = rng.choice(blocks)
        return _put(data, at + 4, order + "I", len(data) - at + 4 * rng.randint(1, 1 << 20))
    order, recs = _pcap_records(data)
    if not recs:
        return truncation(data, rng)
    at = rng.choice(recs)
    beyond = len(data) - at - 16 + rng.randint(1, 1 << 20)
    return _put(data, at + 8, order + "II", beyond, beyond)


def caplen_over_snaplen(data: bytes, rng: random.Random) -> bytes:
    """A record longer than the file's snapshot length: the header lowered, or a record
    grown with bytes that are not there."""
    if is_pcapng(data):
        order, blocks = _pcapng_blocks(data)
        idbs = [at for at, btype in blocks if btype == IDB]
        if not idbs:
            return bit_flips(data, rng)
        return _put(data, rng.choice(idbs) + 12, order + "I", rng.randint(1, 64))
    order, recs = _pcap_records(data)
    snaplen = struct.unpack_from(order + "I", data, 16)[0]
    if rng.random() < 0.5 or not recs:
        return _put(data, 16, order + "I", rng.randint(1, 64))
    at = rng.choice(recs)
    over = min(snaplen, 0xFFFFFFFF - 4096) + rng.randint(1, 4096)
    return _put(data, at + 8, order + "II", over, over)


def zero_length_records(data: bytes, rng: random.Random) -> bytes:
    """Records of no bytes: inserted whole (valid: tcpdump prints them), or a record's
    length zeroed so that its bytes are read as the next header."""
    if is_pcapng(data):
        order, blocks = _pcapng_blocks(data)
        at, _ = rng.choice(blocks)
        return _put(data, at + 4, order + "I", 0)
    order, recs = _pcap_records(data)
    if not recs:
        return data + struct.pack(order + "IIII", 1, 0, 0, 0)
    at = rng.choice(recs)
    if rng.random() < 0.5:
        empty = struct.pack(order + "IIII", *struct.unpack_from(order + "II", data, at), 0, 0)
        return data[:at] + empty * rng.randint(1, 3) + data[at:]
    return _put(data, at + 8, order + "I", 0)


def bad_block_lengths(data: bytes, rng: random.Random) -> bytes:
    """pcapng blocks whose lengths lie: unaligned, below the minimum, huge, or a
    trailing copy that disagrees (classic pcap files get a lying record instead)."""
    if not is_pcapng(data):
        return length_beyond_file(data, rng)
    order, blocks = _pcapng_blocks(data)
    at, _ = rng.choice(blocks)
    length = struct.unpack_from(order + "I", data, at + 4)[0]
    how = rng.randrange(4)
    if how == 0:
        return _put(data, at + 4, order + "I", length + rng.choice((1, 2, 3)))
    if how == 1:
        return _put(data, at + 4, order + "I", rng.randrange(12))
    if how == 2:
        return _put(data, at + 4, order + "I", rng.choice((0xFFFFFFFF, 0x80000000, 1 << 24)))
    return _put(data, at + length - 4, order + "I", length + 4 * rng.randint(1, 64))


def unknown_link_type(data: bytes, rng: random.Random) -> bytes:
    """A link type no reader knows, or one that makes the packets mean something else."""
    linktype = rng.choice((0xFFFF, 0xFFFFFFF, 300, 1000, rng.randrange(1 << 16),
                           0, 1, 101, 113, 276, 228, 229))
    if is_pcapng(data):
        order, blocks = _pcapng_blocks(data)
        idbs = [at for at, btype in blocks if btype == IDB]
        if not idbs:
            return bit_flips(data, rng)
        return _put(data, rng.choice(idbs) + 8, order + "H", linktype & 0xFFFF)
    order = PCAP_MAGICS[data[:4]]
    return _put(data, 20, order + "I", linktype)


def random_bytes(data: bytes, rng: random.Random) -> bytes:
    """A span overwritten with noise, noise appended, or nothing but noise after the
    file header."""
    noise = rng.randbytes(rng.randint(1, 4096))
    how = rng.randrange(3)
    if how == 0:
        at = rng.randrange(len(data))
        return data[:at] + noise + data[at + len(noise):]
    if how == 1:
        return data + noise
    if is_pcapng(data):
        blocks = _pcapng_blocks(data)[1]
        head = blocks[min(2, len(blocks) - 1)][0] if blocks else 0  # after SHB and IDB
    else:
        head = 24
    return data[:head] + noise


MUTATIONS: tuple[Callable[[bytes, random.Random], bytes], ...] = (
    bit_flips, truncation, length_beyond_file, caplen_over_snaplen, zero_length_records,
    bad_block_lengths, unknown_link_type, random_bytes)


def mutate(data: bytes, rng: random.Random, mutation: Callable[[bytes, random.Random], bytes],
           ) -> bytes:
    """`mutation` applied once, and a second, random one a quarter of the time.

    A mutation that finds nothing it knows to damage (no whole record, a magic
    already flipped) leaves the bits to `bit_flips`.
    """
    out = _applied(mutation, data, rng)
    if rng.random() < 0.25 and len(out) > 1:
        out = _applied(rng.choice(MUTATIONS), out, rng)
    return out


def _applied(mutation: Callable[[bytes, random.Random], bytes], data: bytes,
             rng: random.Random) -> bytes:
    try:
        return mutation(data, rng)
    except (KeyError, IndexError, ValueError, struct.error):
        return bit_flips(data, rng)
