"""Flags that mean the same in every tool, defined once so they read the same."""

from __future__ import annotations

import argparse


def add_json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="JSON lines (schema rawtools/1)")


def add_record_replay_flags(p: argparse.ArgumentParser) -> None:
    """--record/--replay: a run saved as a pcap, and run again from it offline."""
    p.add_argument("--record", metavar="FILE.pcap",
                   help="write every packet sent and received to a pcap")
    p.add_argument("--replay", metavar="FILE.pcap",
                   help="run against a recording instead of the network")
