"""`rawtools sniff`: tcpdump's flags, output and end-of-capture statistics.

The loop hands whole batches around (a libpcap `next_batch`, a block of the
AF_PACKET ring) and writes each batch's text with one call, because per-packet
Python work, not the kernel, is what limits a Python sniffer. SIGINT and
SIGTERM only request a stop (`rawtools.io.stop`, which also wakes the
capture's select), so the loop always leaves through the same door: -w file
flushed and closed, statistics printed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from rawtools.errors import CaptureError, UsageError
from rawtools.io.capture import DEFAULT_SNAPLEN, CaptureSource, Packet
from rawtools.io.privileges import drop_privileges
from rawtools.io.stop import Stop, killable
from rawtools.jsonout import record
from rawtools.tools.options import add_json_flag, seconds
from rawtools.tools.sniff.api import Backend, check_capture, open_capture
from rawtools.tools.sniff.session import open_writer
from rawtools.wire import link

if TYPE_CHECKING:
    from rawtools.tools.sniff.decode import Decoder
    from rawtools.tools.sniff.output import CaptureWriter

Render = Callable[[list[Packet]], str]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("expression", nargs="*", metavar="EXPRESSION",
                   help="BPF filter, as tcpdump (e.g. udp port 53)")
    p.add_argument("-i", dest="interface", metavar="IFACE",
                   help="capture on IFACE ('any' for all; default: first up non-loopback)")
    p.add_argument("-r", dest="read", metavar="FILE", help="read packets from a pcap/pcapng file")
    p.add_argument("-c", dest="count", type=int, default=0, metavar="COUNT",
                   help="stop after COUNT packets")
    p.add_argument("--timeout", type=float, metavar="SEC",
                   help="stop after SEC seconds of capture (not in tcpdump)")
    p.add_argument("-s", dest="snaplen", type=int, default=DEFAULT_SNAPLEN, metavar="SNAPLEN",
                   help="bytes to capture per packet (0 = 262144)")
    p.add_argument("-p", dest="promisc", action="store_false", help="no promiscuous mode")
    p.add_argument("-B", dest="buffer_kib", type=int, metavar="KIB",
                   help="kernel capture buffer size in KiB")
    p.add_argument("-Q", dest="direction", choices=["in", "out", "inout"],
                   help="capture only packets received (in), sent (out) or both")
    p.add_argument("--immediate", action="store_true",
                   help="deliver each packet at once (uses the packet backend)")
    p.add_argument("--backend", choices=["pcap", "packet"],
                   help="libpcap (default) or an AF_PACKET ring")
    p.add_argument("-w", dest="write", metavar="FILE", help="write packets to FILE ('-' stdout)")
    p.add_argument("--pcapng", action="store_true",
                   help="with -w: pcapng with capture statistics, not pcap")
    p.add_argument("-C", dest="file_size", metavar="SIZE",
                   help="with -w: new file when this one exceeds SIZE million bytes (k/m/g)")
    p.add_argument("-G", dest="rotate_seconds", type=int, default=0, metavar="SEC",
                   help="with -w: new file every SEC seconds (FILE may hold strftime %%-codes)")
    p.add_argument("-W", dest="file_count", type=int, metavar="N",
                   help="with -C: reuse N files in a ring; with -G: stop after N files")
    p.add_argument("-n", dest="numeric", action="store_true", help="don't resolve addresses")
    p.add_argument("-e", dest="link_header", action="store_true", help="print the link header")
    p.add_argument("-v", dest="verbose", action="count", default=0, help="more detail (-vv, -vvv)")
    dump = p.add_mutually_exclusive_group()
    dump.add_argument("-x", dest="hexdump", action="store_const", const="x", help="hex dump")
    dump.add_argument("-X", dest="hexdump", action="store_const", const="X",
                      help="hex and ASCII dump")
    dump.add_argument("-A", dest="hexdump", action="store_const", const="A", help="ASCII dump")
    p.add_argument("-t", dest="ts", action="count", default=0,
                   help="-t no time, -tt seconds since the epoch, -ttt delta to previous")
    p.add_argument("-l", dest="line_buffered", action="store_true", help="line-buffered stdout")
    p.add_argument("-Z", dest="user", metavar="USER",
                   help="drop to USER after opening (default under sudo: the sudo user)")
    add_json_flag(p)


def open_source(args: argparse.Namespace) -> CaptureSource:
    """The capture the flags ask for, filter installed, still with root's rights."""
    backend: Backend = args.backend or ("packet" if args.immediate else "pcap")
    if args.immediate and backend == "pcap":
        raise UsageError("--immediate needs --backend packet (pcapy-ng has no immediate mode)")
    # Ctrl-C must not wait for a long filter to compile (tcpdump stops at once).
    with killable():
        return open_capture(args.interface, " ".join(args.expression), file=args.read,
                            snaplen=args.snaplen, promisc=args.promisc,
                            immediate=args.immediate, backend=backend,
                            direction=args.direction, buffer_kib=args.buffer_kib)


def _text_output(args: argparse.Namespace, linktype: int) -> tuple[Render, Decoder]:
    """A function turning a batch into output text, and the decoder behind it."""
    from rawtools.tools.sniff.decode import Decoder
    from rawtools.tools.sniff.timestamps import TS_STYLES

    decoder = Decoder(linktype, numeric=args.numeric, verbose=args.verbose,
                      link_header=args.link_header, ts_style=TS_STYLES[args.ts],
                      hexdump=args.hexdump)
    if args.json:
        as_json, rec = json.dumps, decoder.record

        def render(batch: list[Packet]) -> str:
            return "".join([as_json(rec(*p), separators=(",", ":")) + "\n" for p in batch])

        return render, decoder
    return decoder.lines, decoder


def _writer(args: argparse.Namespace, source: CaptureSource) -> CaptureWriter:
    from rawtools.tools.sniff.output import parse_size

    size = parse_size(args.file_size) if args.file_size else 0
    return open_writer(args.write, source, pcapng=args.pcapng, size=size,
                       seconds=args.rotate_seconds, files=args.file_count)


def _plural(n: int, what: str) -> str:
    return f"{n} packet{'' if n == 1 else 's'} {what}"


def run(args: argparse.Namespace) -> int:
    check_capture(args.count, args.snaplen, args.buffer_kib)
    timeout_ns = None if args.timeout is None else seconds("--timeout", args.timeout)
    if args.pcapng and not args.write:
        raise UsageError("--pcapng needs -w FILE")
    if (args.file_size or args.rotate_seconds or args.file_count is not None) \
            and not args.write:
        raise UsageError("-C, -G and -W need -w FILE")
    if args.write:
        from rawtools.tools.sniff.output import check_rotation, parse_size

        # Refused before a capture is opened; `_writer` parses -C again to use it.
        if args.file_size:
            parse_size(args.file_size)
        check_rotation(args.rotate_seconds, args.file_count)
    if args.ts > 3:
        raise UsageError("-tttt and beyond are not supported (use -t, -tt or -ttt)")
    # The stop pipe first: with too few descriptors the run fails before any output.
    with Stop() as stop:
        source = open_source(args)
        try:
            # Everything is imported and built before root is given up: after it the
            # Python installation itself may be out of reach (a root-only prefix).
            render, decoder = ((None, None) if args.write
                               else _text_output(args, source.linktype))
            # Only the module now (the writer's brings dpkt); the file is opened,
            # or the helper started, below.
            importlib.import_module("rawtools.tools.sniff.output" if args.write
                                    else "rawtools.tools.sniff.helper")
            drop_privileges(args.user)
            # Opened as the unprivileged user, as tcpdump does, so the files are theirs.
            writer = _writer(args, source) if args.write else None
            return _capture(args, source, writer, render, decoder, stop, timeout_ns)
        finally:
            source.close()


def _capture(args: argparse.Namespace, source: CaptureSource, writer: CaptureWriter | None,
             render: Render | None, decoder: Decoder | None, stop: Stop,
             timeout_ns: int | None) -> int:
    """Packets to the writer or as text until EOF, -c, --timeout or a stop; then the report."""
    where = f"reading from file {args.read}" if args.read else f"listening on {source.name}"
    snap = f"snapshot length {source.snaplen}" + ("" if args.read else " bytes")
    print(f"{where}, link-type {link.describe(source.linktype)}, {snap}", file=sys.stderr,
          flush=True)
    out = sys.stdout
    captured = 0
    helper = None
    if decoder is not None and args.read and not args.json:
        from rawtools.tools.sniff.helper import Helper

        helper = Helper.start(decoder, args.read, " ".join(args.expression), args.count)
        if helper is not None:
            render = helper.render
    try:
        with stop.on_signals():
            try:
                for batch in source.batches(args.count, stop, timeout_ns=timeout_ns):
                    if writer:
                        captured += writer.write_batch(batch)
                        if writer.finished:
                            print(f"Maximum file limit reached: {args.file_count}", file=sys.stderr)
                            break
                    elif render is not None:
                        out.write(render(batch))
                        captured += len(batch)
                        if args.line_buffered:
                            out.flush()
            finally:
                if helper is not None:
                    helper.close()
                if writer:
                    writer.close()
                out.flush()
                _report(args, source, captured, decoder)
    except OSError as e:
        # Only standard output is written here unwrapped (the -w writers and the
        # capture raise CaptureError): a full disk under `> file`, or EIO.
        raise _stdout_refused(e) from None
    return 0


def _stdout_refused(e: OSError) -> CaptureError:
    """The one line for a refused standard output.

    What is still buffered would fail again as the interpreter exits, with a
    message of its own; pointed at /dev/null, that last flush goes nowhere.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return CaptureError(f"standard output: {e.strerror or e}")


def _report(args: argparse.Namespace, source: CaptureSource, captured: int,
            decoder: Decoder | None) -> None:
    """tcpdump's closing lines on stderr; with --json also the summary object."""
    stats = source.stats()
    if stats is not None:
        print(f"{_plural(captured, 'captured')}\n{_plural(stats.received, 'received by filter')}"
              f"\n{_plural(stats.dropped, 'dropped by kernel')}", file=sys.stderr)
        if stats.ifdropped:
            print(_plural(stats.ifdropped, "dropped by interface"), file=sys.stderr)
    if args.json and args.write != "-":
        fields = {"captured": captured, "malformed": decoder.malformed if decoder else 0}
        if stats is not None:
            fields.update(received=stats.received, dropped=stats.dropped,
                          ifdropped=stats.ifdropped)
        sys.stdout.write(json.dumps(record("sniff", "summary", **fields)) + "\n")
        sys.stdout.flush()
