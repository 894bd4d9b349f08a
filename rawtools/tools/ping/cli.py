"""`rawtools ping`: iputils ping's flags and output; fping's for many targets."""

from __future__ import annotations

import argparse
import signal
import sys

from rawtools.io.icmpsock import is_broadcast
from rawtools.io.stop import Stop
from rawtools.net.resolve import ReverseNames, is_numeric
from rawtools.tools.options import add_family_flags, add_json_flag, add_record_replay_flags
from rawtools.tools.ping.config import PingConfig, ping_config
from rawtools.tools.ping.engine import PingEngine, Target
from rawtools.tools.ping.events import PingEvent
from rawtools.tools.ping.render import MultiRenderer, TextRenderer
from rawtools.tools.ping.session import PingRun, execute


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("hosts", nargs="*", metavar="HOST", help="host name or address (several "
                   "hosts are probed concurrently, fping-style)")
    add_family_flags(p)
    p.add_argument("-c", dest="count", type=int, metavar="COUNT",
                   help="stop after COUNT replies (per target with several targets)")
    p.add_argument("-i", dest="interval", type=float, metavar="SEC",
                   help="seconds between probes (default 1; below 0.2 root only)")
    p.add_argument("-s", dest="size", type=int, metavar="SIZE",
                   help="data bytes per probe (default 56)")
    p.add_argument("-t", dest="ttl", type=int, metavar="TTL", help="IP TTL / IPv6 hop limit")
    p.add_argument("-W", dest="timeout", type=float, metavar="SEC",
                   help="seconds to wait for a reply when none has come (default 10)")
    p.add_argument("-w", dest="deadline", type=float, metavar="SEC",
                   help="stop after SEC seconds whatever happens")
    p.add_argument("-q", dest="quiet", action="store_true", help="only the summary")
    p.add_argument("-n", dest="numeric", action="store_true", help="no reverse name lookups")
    p.add_argument("-I", dest="interface", metavar="IFACE|ADDR",
                   help="send from this interface or source address")
    p.add_argument("-p", dest="pattern", metavar="HEX", help="fill pattern, up to 16 bytes")
    p.add_argument("-D", dest="timestamps", action="store_true",
                   help="print a UNIX timestamp before each line")
    p.add_argument("-O", dest="outstanding", action="store_true",
                   help="report probes still unanswered when the next is sent")
    p.add_argument("-b", dest="broadcast", action="store_true",
                   help="allow pinging a broadcast address")
    p.add_argument("-M", dest="pmtudisc", choices=["probe"],
                   help="probe: set Don't Fragment and ignore the cached path MTU (as "
                        "iputils' -M probe), so too-big probes draw frag-needed errors")
    p.add_argument("-f", dest="flood", action="store_true", help="flood ping (root only)")
    p.add_argument("-v", dest="verbose", action="store_true",
                   help="verbose: say which socket type is used")
    p.add_argument("-g", dest="sweep", metavar="CIDR",
                   help="probe every address of a range, e.g. 198.18.5.0/24")
    p.add_argument("--retries", type=int, default=2, metavar="N",
                   help="with several targets: extra probes to a silent target (default 2)")
    add_json_flag(p)
    add_record_replay_flags(p)
    p.add_argument("--socket", dest="mechanism", choices=["raw", "dgram"],
                   help="force the socket type (default: datagram, else raw, as iputils)")


def config_from_args(args: argparse.Namespace) -> PingConfig:
    """The flags, checked and turned into a run by the constructor the API uses too."""
    return ping_config(args.hosts, count=args.count, interval=args.interval, size=args.size,
                       ttl=args.ttl, timeout=args.timeout, deadline=args.deadline,
                       sweep=args.sweep, version=args.version, interface=args.interface,
                       pattern=args.pattern, flood=args.flood, outstanding=args.outstanding,
                       retries=args.retries, mechanism=args.mechanism, record=args.record,
                       replay=args.replay, broadcast=args.broadcast,
                       dont_fragment=args.pmtudisc == "probe")


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    with Stop() as stop, stop.on_signals():
        return _run(args, cfg, stop)


def _run(args: argparse.Namespace, cfg: PingConfig, stop: Stop) -> int:
    json_out = _JsonOut() if args.json else None
    # Renderers are chosen once the targets are known: a replay learns them
    # from the recording, and several targets switch to fping's style.
    text: TextRenderer | None = None
    multi_text: MultiRenderer | None = None

    def on_start(targets: list[Target], source: str | None) -> None:
        nonlocal text, multi_text
        if json_out:
            return
        if cfg.opts.multi:
            multi_text = MultiRenderer(per_reply=args.count is not None, quiet=args.quiet)
            multi_text.start(targets)
            return
        names = ReverseNames(enabled=not args.numeric and not is_numeric(targets[0].name))
        text = TextRenderer(quiet=args.quiet, timestamps=args.timestamps, flood=args.flood,
                            name_of=names)
        if cfg.broadcast and is_broadcast(targets[0].addr):  # iputils warns for those only
            print("WARNING: pinging broadcast address", file=sys.stderr)
        text.header(targets[0], cfg.opts.size, cfg.opts.pattern, cfg.source, cfg.device)

    def on_event(ev: PingEvent) -> None:
        if json_out:
            json_out.event(ev)
        elif text:
            text.event(ev)
        elif multi_text:
            multi_text.event(ev)

    result = execute(cfg, on_start, on_event, stop)
    engine = result.engine
    if args.verbose and not args.json:
        print(f"rawtools ping: used {result.mechanism} ICMP socket, identifier "
              f"{engine.ident}", file=sys.stderr)
    if json_out:
        json_out.summary(result)
    elif text:
        text.summary(engine)
    elif multi_text:
        multi_text.summary(engine)
    if stop.signum == signal.SIGTERM:
        return stop.exit_code()
    return exit_code(engine)


def exit_code(engine: PingEngine) -> int:
    """iputils: 0 if any reply; 1 if none, or if -c and -w both given and fewer
    than count replies came before the deadline.

    Ctrl-C is how ping is meant to end, so it keeps this code, as iputils
    does; SIGTERM, which iputils does not catch, gives 143 as its death would.
    """
    received = engine.total_received
    if not received:
        return 1
    o = engine.opts
    if o.count is not None and o.deadline_ns is not None and not o.multi \
            and received < o.count:
        return 1
    return 0


class _JsonOut:
    """--json's lines, loaded for --json alone: the result dataclasses cost every start.

    Made before the socket opens: once root is given up, the interpreter's
    own files may be out of reach, so nothing may be imported later.
    """

    def __init__(self) -> None:
        from rawtools.jsonout import JsonLines
        from rawtools.tools.ping.report import build_result, event_record

        self.out = JsonLines("ping")
        self.record, self.result = event_record, build_result

    def event(self, ev: PingEvent) -> None:
        rec = self.record(ev)
        if rec is not None:
            self.out.emit(rec.pop("type"), **rec)

    def summary(self, result: PingRun) -> None:
        """The API's result as a dict: what a script gets is what --json prints."""
        self.out.write(self.result(result).to_dict())
