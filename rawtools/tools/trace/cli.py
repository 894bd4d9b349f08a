"""`rawtools trace`: Linux traceroute's flags and output, plus mtr's report."""

from __future__ import annotations

import argparse
import signal
import sys

from rawtools.errors import UsageError
from rawtools.io.stop import Stop
from rawtools.net.resolve import ReverseNames
from rawtools.tools.options import add_family_flags, add_json_flag, add_record_replay_flags
from rawtools.tools.trace.config import DEFAULT_GAP, TraceConfig, trace_config
from rawtools.tools.trace.hops import Hop
from rawtools.tools.trace.render import (
    gap_line,
    header,
    hop_line,
    hop_record,
    load_extensions,
    report_table,
)
from rawtools.tools.trace.report import build_result, report_stats
from rawtools.tools.trace.session import TraceRun, execute

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from rawtools.jsonout import JsonLines

_MECH_TEXT = {"raw": "answers read on raw sockets",
              "dgram": "answers read from the error queue (no privileges)",
              "replay": "replaying a recording"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("host", nargs="?", metavar="HOST", help="host name or address")
    m = p.add_mutually_exclusive_group()
    m.add_argument("-U", "--udp", dest="method", action="store_const", const="udp",
                   help="UDP probes to rising ports from 33434 (the default)")
    m.add_argument("-I", "--icmp", dest="method", action="store_const", const="icmp",
                   help="ICMP echo probes")
    m.add_argument("-T", "--tcp", dest="method", action="store_const", const="tcp",
                   help="TCP SYN probes (port 80 unless -p; needs root)")
    add_family_flags(p)
    p.add_argument("-m", dest="max_ttl", type=int, metavar="MAX_TTL",
                   help="max hops (default 30)")
    p.add_argument("-f", dest="first_ttl", type=int, default=1, metavar="FIRST_TTL",
                   help="start from this hop (default 1)")
    p.add_argument("-q", dest="nqueries", type=int, metavar="NQUERIES",
                   help="probes per hop (default 3; 1 per cycle with -c/--report)")
    p.add_argument("-w", dest="wait", default="5", metavar="MAX",
                   help="seconds a probe may keep being tried before it is a '*' (default 5)")
    p.add_argument("-N", dest="inflight", type=int, default=16, metavar="SQUERIES",
                   help="probes in flight at once (default 16)")
    p.add_argument("-z", dest="pause", type=float, default=0.0, metavar="SENDWAIT",
                   help="pause between probes: seconds, or milliseconds if above 10")
    p.add_argument("-n", dest="numeric", action="store_true", help="no reverse DNS")
    p.add_argument("-s", dest="source", metavar="SRC_ADDR", help="source address")
    p.add_argument("-i", dest="interface", metavar="DEVICE", help="send through this interface")
    p.add_argument("-p", dest="port", type=int, metavar="PORT",
                   help="UDP base port (33434) or TCP port (80)")
    p.add_argument("--paris", action="store_true",
                   help="UDP: keep one flow for all probes (always on for -I and -T)")
    p.add_argument("-e", "--extensions", action="store_true",
                   help="show ICMP extensions (RFC 4884: MPLS labels, interface info)")
    p.add_argument("--gap", type=int, default=DEFAULT_GAP, metavar="HOPS",
                   help="give up after HOPS silent hops past the last that answered "
                        f"(default {DEFAULT_GAP})")
    p.add_argument("--explain", action="store_true",
                   help="re-probe hops that showed '*' slowly, also with another method, "
                        "and say whether each looks filtered, rate-limited or lossy")
    p.add_argument("-c", dest="cycles", type=int, metavar="CYCLES",
                   help="repeat the trace CYCLES times and report mtr-like statistics "
                        "(0: until Ctrl-C, as --watch)")
    p.add_argument("--watch", action="store_true",
                   help="trace again every second until Ctrl-C, redrawing mtr's table in "
                        "place (a new table per round when not on a terminal)")
    p.add_argument("--report", action="store_true",
                   help="mtr-like statistics per hop (10 cycles unless -c)")
    p.add_argument("--mda", action="store_true",
                   help="find every path through per-flow load balancers (Multipath "
                        "Detection Algorithm): the interfaces of each hop and the links "
                        "between them; -q is not used")
    p.add_argument("--confidence", type=int, default=95, metavar="PCT",
                   help="--mda: rule out a missed next hop with this confidence (default 95)")
    p.add_argument("--dot", metavar="FILE", help="--mda: also write the paths as Graphviz DOT")
    p.add_argument("-v", dest="verbose", action="store_true",
                   help="say which sockets are used")
    p.add_argument("--socket", dest="mechanism", choices=["raw", "dgram"],
                   help="force raw sockets or unprivileged datagram sockets")
    add_json_flag(p)
    add_record_replay_flags(p)


def _wait_seconds(text: str) -> float:
    """-w MAX[,HERE,NEAR]: traceroute's form; only MAX is used (see the README)."""
    try:
        return float(text.split(",")[0])
    except ValueError:
        raise UsageError(f"-w {text}: not a number of seconds") from None


def config_from_args(args: argparse.Namespace) -> TraceConfig:
    """The flags, checked and turned into a trace by the constructor the API uses too."""
    # traceroute's -z: seconds, or milliseconds when above 10.
    pause = args.pause / 1000 if args.pause > 10 else args.pause
    cycles = args.cycles if args.cycles is not None else \
        (0 if args.watch else 10 if args.report else 1)
    nqueries = args.nqueries if args.nqueries is not None else (3 if cycles == 1 else 1)
    return trace_config(args.host, method=args.method, version=args.version,
                        first_ttl=args.first_ttl, max_ttl=args.max_ttl, nqueries=nqueries,
                        wait=_wait_seconds(args.wait), inflight=args.inflight, pause=pause,
                        port=args.port, paris=True if args.paris else None,
                        source=args.source, interface=args.interface,
                        mechanism=args.mechanism, cycles=cycles, explain=args.explain,
                        record=args.record, replay=args.replay, mda=args.mda,
                        confidence=args.confidence, dot=args.dot, gap=args.gap)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    with Stop() as stop, stop.on_signals():
        if cfg.mda:
            # --mda's modules (dpkt among them) would cost every other trace start-up time.
            from rawtools.tools.trace.mdacli import run_mda

            return run_mda(args, cfg, stop)
        return _run(args, cfg, stop)


def _run(args: argparse.Namespace, cfg: TraceConfig, stop: Stop) -> int:
    watch = args.watch or cfg.cycles == 0
    report = args.report or cfg.cycles != 1 or watch
    numeric = args.numeric or cfg.replay is not None
    names = ReverseNames(enabled=not numeric)
    # What only some runs need is loaded for those alone (start-up is most of
    # a short trace's time), and before the sockets open and root is given up.
    out: JsonLines | None = None
    if args.json:
        from rawtools.jsonout import JsonLines

        out = JsonLines("trace")
    if args.extensions:
        load_extensions()

    def on_start(tr: TraceRun) -> None:
        if args.verbose:
            print(f"rawtools trace: {tr.spec.method} probes, {_MECH_TEXT[tr.mechanism]}",
                  file=sys.stderr)
        if out is None and not report:
            print(header(tr.host, tr.spec.dst, cfg.max_ttl, tr.spec.size), flush=True)

    def on_hop(rnd: int, hop: Hop) -> None:
        if out is not None:
            rec = hop_record(hop, None if cfg.cycles == 1 else rnd, args.extensions)
            out.emit("hop", **rec)
        elif not report:
            print(hop_line(hop, names, args.extensions), flush=True)

    on_round = _Redraw(names, sys.stdout.isatty()) if watch and out is None else None
    tr = execute(cfg, on_start, on_hop, stop, on_round)
    _ending(tr, cfg, out, report, watch, names)
    if watch and tr.interrupted and stop.signum != signal.SIGTERM:
        return 0  # Ctrl-C is how a watch ends, as q is mtr's
    return stop.exit_code() if tr.interrupted and stop.requested else 0


def _ending(tr: TraceRun, cfg: TraceConfig, out: JsonLines | None, report: bool, watch: bool,
            names: ReverseNames) -> None:
    """What follows the hop lines: the gap line, --explain's verdicts, the summary or table."""
    result = build_result(tr)
    if out is None and not report and result.end == "gap":
        print(gap_line(result, cfg.explain))
    for ex in tr.explanations:
        if out is not None:
            out.emit("explain", ttl=ex.ttl, verdict=ex.verdict, addr=ex.addr,
                     method=ex.method, answered=ex.answered, sent=ex.sent,
                     other_method=ex.other_method, other_answered=ex.other_answered,
                     other_sent=ex.other_sent)
        else:
            print(f"explain: {ex.text()}")
    if out is not None:
        out.write(result.to_dict(report))
    elif report and not watch:
        print(report_table(tr.host, report_stats(tr.rounds), names))
        if result.end == "gap":
            print(gap_line(result, cfg.explain))


class _Redraw:
    """--watch's screen: mtr's table again after every round.

    On a terminal the table is redrawn in place (cursor home, clear below),
    so it reads like mtr's display; piped or redirected, each round's table
    follows the last under a `round N` line, so a log keeps every one.
    """

    def __init__(self, names: ReverseNames, in_place: bool) -> None:
        self.names = names
        self.in_place = in_place

    def __call__(self, tr: TraceRun) -> None:
        table = report_table(tr.host, report_stats(tr.rounds), self.names)
        n = len(tr.rounds)
        if self.in_place:
            sys.stdout.write(f"\x1b[H\x1b[J{table}\nround {n}; Ctrl-C to stop\n")
        else:
            sys.stdout.write(f"{'' if n == 1 else chr(10)}round {n}\n{table}\n")
        sys.stdout.flush()
