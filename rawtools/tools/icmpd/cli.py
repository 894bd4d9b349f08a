"""`rawtools icmpd`: UNP's icmpd (section 28.7) as a foreground daemon, or a recording replayed.

Ctrl-C and SIGTERM are the ordinary way a daemon ends (systemd stops it
with SIGTERM), so both exit 0 after the clean-up, as `rawtools sniff` does
when stopped; the non-zero 130 of one-shot tools means "cut short", which
says nothing about a daemon that was simply told to stop.
"""

from __future__ import annotations

import argparse
import sys

from rawtools.io.stop import Stop
from rawtools.tools.icmpd.config import IcmpdConfig, icmpd_config
from rawtools.tools.icmpd.render import JsonLog, TextLog
from rawtools.tools.icmpd.session import replay, run_daemon
from rawtools.tools.options import add_json_flag
from rawtools.wire.icmpdmsg import DEFAULT_SOCKET


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--socket", dest="socket_path", default=DEFAULT_SOCKET, metavar="PATH",
                   help=f"the Unix socket clients connect to (default {DEFAULT_SOCKET})")
    p.add_argument("--mode", default="0660", metavar="OCTAL",
                   help="permissions of the socket: who may connect (default 0660)")
    p.add_argument("--group", metavar="GROUP", help="group owning the socket")
    p.add_argument("--user", metavar="USER",
                   help="run as USER once the sockets are open (default: the sudo user)")
    p.add_argument("-v", dest="verbose", action="store_true",
                   help="log every error delivered, unmatched and malformed packet")
    add_json_flag(p)
    p.add_argument("--record", metavar="FILE.pcap",
                   help="write every ICMP packet received to a pcap (raw IP)")
    p.add_argument("--replay", metavar="FILE.pcap",
                   help="route a recording's ICMP errors to --watch sockets instead of serving")
    p.add_argument("--watch", action="append", default=[], metavar="ADDR:PORT",
                   help="with --replay: a UDP socket to route errors to ([ADDR6]:PORT for "
                        "IPv6; repeatable)")


def config_from_args(args: argparse.Namespace) -> IcmpdConfig:
    return icmpd_config(args.socket_path, mode=args.mode, group=args.group, user=args.user,
                        verbose=args.verbose, json=args.json, record=args.record,
                        replay=args.replay, watch=args.watch)


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    if cfg.replay:
        names = {i: f"watch {w}" for i, w in enumerate(cfg.watches, 1)}
        log = JsonLog(sys.stdout) if cfg.json else TextLog(sys.stdout, names=names)
        log.replay_summary(replay(cfg, log))
        return 0
    log = JsonLog(sys.stdout, verbose=cfg.verbose) if cfg.json else \
        TextLog(sys.stderr, verbose=cfg.verbose)
    with Stop() as stop, stop.on_signals():
        counts = run_daemon(cfg, stop, log)
    log.summary(counts)
    return 0
