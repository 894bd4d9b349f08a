"""`rawtools inject`: tcpreplay's habit, a capture's frames sent out of an interface."""

from __future__ import annotations

import argparse

from rawtools.io.stop import Stop
from rawtools.jsonout import JsonLines
from rawtools.tools.inject.config import InjectConfig, inject_config
from rawtools.tools.inject.events import InjectEvent
from rawtools.tools.inject.render import ProgressLine, summary
from rawtools.tools.inject.report import build_result, event_record
from rawtools.tools.inject.session import execute
from rawtools.tools.options import add_json_flag


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="the capture to send (pcap or pcapng)")
    p.add_argument("expression", nargs="*", metavar="EXPRESSION",
                   help="BPF filter picking the frames that go (tcpdump's language)")
    p.add_argument("-i", dest="interface", required=True, metavar="IFACE",
                   help="send out of this interface")
    p.add_argument("--backend", choices=["pcap", "packet"],
                   help="libpcap, or an AF_PACKET TX ring (default on Ethernet-like "
                        "interfaces)")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=float, metavar="X",
                      help="the recorded pacing, X times faster (default: as recorded)")
    pace.add_argument("--pps", type=float, metavar="N", help="N frames a second")
    pace.add_argument("--topspeed", action="store_true", help="as fast as the interface takes")
    p.add_argument("--loop", type=int, default=1, metavar="N",
                   help="send the capture N times (0: until stopped)")
    p.add_argument("-c", dest="count", type=int, metavar="COUNT",
                   help="stop after COUNT frames (loops included)")
    p.add_argument("--dmac", metavar="MAC",
                   help="Ethernet destination for raw-IP/cooked captures (default broadcast)")
    p.add_argument("--smac", metavar="MAC",
                   help="Ethernet source for raw-IP/cooked captures (default the interface's)")
    add_json_flag(p)


def config_from_args(args: argparse.Namespace) -> InjectConfig:
    """The flags, checked and turned into a run by the constructor the API uses too."""
    return inject_config(args.file, args.interface, " ".join(args.expression),
                         backend=args.backend, speed=args.speed, pps=args.pps,
                         topspeed=args.topspeed, loop=args.loop, count=args.count,
                         dmac=args.dmac, smac=args.smac)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    json_out = JsonLines("inject") if args.json else None
    progress = ProgressLine()

    def on_event(ev: InjectEvent) -> None:
        if json_out is not None:
            rec = event_record(ev)
            json_out.emit(rec.pop("type"), **rec)
        else:
            progress.event(ev)

    with Stop() as stop, stop.on_signals():
        try:
            result = build_result(execute(cfg, on_event, stop))
        finally:
            progress.clear()
    if json_out is not None:
        json_out.write(result.to_dict())
    else:
        print(summary(result, cfg.filter), flush=True)
    if result.interrupted:
        return stop.exit_code()
    return 1 if result.failed else 0
