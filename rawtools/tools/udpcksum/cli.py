"""`rawtools udpcksum`: UNP's prober (section 29.7) and its flags, made robust."""

from __future__ import annotations

import argparse

from rawtools.io.stop import Stop
from rawtools.jsonout import JsonLines
from rawtools.tools.options import add_family_flags, add_json_flag, add_record_replay_flags
from rawtools.tools.udpcksum.config import MAX_RETRIES, UdpCksumConfig, udpcksum_config
from rawtools.tools.udpcksum.events import UdpCksumEvent
from rawtools.tools.udpcksum.render import TextRenderer
from rawtools.tools.udpcksum.report import build_result, event_record
from rawtools.tools.udpcksum.session import Plan, execute


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("host", nargs="?", metavar="HOST", help="host name or address")
    p.add_argument("service", nargs="?", metavar="SERVICE",
                   help="UDP service name or port number (e.g. domain, 53, ntp)")
    add_family_flags(p)
    p.add_argument("-i", dest="interface", metavar="DEVICE",
                   help="capture on this interface (default: the one the route to HOST uses)")
    p.add_argument("-l", dest="local", metavar="ADDR.PORT",
                   help="source address and port, UNP's form (198.18.0.1.5353), IPv6 also "
                        "[2001:db8::1]:5353; port 0 lets the kernel choose")
    p.add_argument("-0", dest="zero", action="store_true",
                   help="send the UDP checksum as 0 (not computed)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("-q", dest="query", metavar="NAME",
                      help="DNS query for NAME's A record (the default payload; "
                           "NAME a.root-servers.net)")
    what.add_argument("--ntp", action="store_true",
                      help="an NTP client request (the default for port 123)")
    what.add_argument("--payload", metavar="HEX", help="these bytes, in hex, as the payload")
    p.add_argument("-w", dest="wait", type=float, default=3.0, metavar="SEC",
                   help="seconds to wait for the first try, doubled for each retry (default 3)")
    p.add_argument("-r", dest="retries", type=int, default=2, metavar="N",
                   help=f"tries after the first (default 2, at most {MAX_RETRIES})")
    p.add_argument("-v", dest="verbose", action="store_true",
                   help="device, filter, link type, the bytes sent, the checksums compared")
    add_json_flag(p)
    add_record_replay_flags(p)


def config_from_args(args: argparse.Namespace) -> UdpCksumConfig:
    """The flags, checked and turned into a run by the constructor the API uses too."""
    return udpcksum_config(args.host, args.service, query=args.query, ntp=args.ntp,
                           payload=args.payload, zero=args.zero, wait=args.wait,
                           retries=args.retries, local=args.local, interface=args.interface,
                           version=args.version, record=args.record, replay=args.replay)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    with Stop() as stop, stop.on_signals():
        return _run(args, cfg, stop)


def _run(args: argparse.Namespace, cfg: UdpCksumConfig, stop: Stop) -> int:
    out = JsonLines("udpcksum") if args.json else None
    text = None if out else TextRenderer(verbose=args.verbose, replay=cfg.replay)

    def on_start(plan: Plan) -> None:
        if text:
            text.start(plan)

    def on_event(ev: UdpCksumEvent) -> None:
        if out is not None:
            rec = event_record(ev)
            if rec is not None:
                out.emit(rec.pop("type"), **rec)
        elif text:
            text.event(ev)

    result = build_result(execute(cfg, on_start, on_event, stop))
    if out is not None:
        out.write(result.to_dict())
    elif text and result.outcome == "interrupted":
        text.interrupted(result.tries)
    if result.outcome == "interrupted" and stop.requested:
        return stop.exit_code()
    return 0 if result.outcome == "reply" else 1
