"""`rawtools <tool> ...`: one subcommand per tool, errors as one line.

Only the chosen tool's module is imported, so `rawtools --help` and a
mistyped flag answer without loading dpkt or libpcap. Each tool lives in
`rawtools.tools.<name>.cli` with `add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import signal
import sys
from typing import Protocol, cast

from rawtools import __version__
from rawtools.errors import RawtoolsError

TOOLS = {
    "ping": "send ICMP/ICMPv6 echo requests (iputils ping; several targets or a sweep)",
    "trace": "trace the route to a host with UDP, ICMP or TCP probes",
    "udpcksum": "does a UDP server send checksums? (UNP's prober, on raw IP and libpcap)",
    "sniff": "capture and decode packets with BPF filters, live or from a file",
    "inject": "send the frames of a capture out of an interface (tcpreplay-like)",
    "icmpd": "hand UDP applications the ICMP errors their datagrams caused (UNP's icmpd)",
    "udpcli": "UDP client that learns its ICMP errors from icmpd (UNP's dg_cli)",
    "ifaces": "list interfaces with flags, MTU and addresses",
}


class ToolCli(Protocol):
    """What `rawtools.tools.<name>.cli` provides."""

    def add_arguments(self, p: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as a single line, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _load(tool: str) -> ToolCli:
    return cast(ToolCli, importlib.import_module(f"rawtools.tools.{tool}.cli"))


def build_parser(tool: str | None) -> tuple[argparse.ArgumentParser, ToolCli | None]:
    """The top-level parser, with full flags only for `tool` (if known)."""
    top = OneLineParser(prog="rawtools", description="Packet-level network tools.")
    top.add_argument("--version", action="version", version=f"rawtools {__version__}")
    sub = top.add_subparsers(dest="tool", metavar="TOOL", parser_class=OneLineParser)
    sub.required = True
    module = None
    for name, text in TOOLS.items():
        p = sub.add_parser(name, help=text, description=text)
        if name == tool:
            module = _load(name)
            module.add_arguments(p)
    return top, module


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rawtools` script; returns the process exit code.

    Descriptors can run out anywhere (`ulimit -n 5`): while a module loads,
    a pipe or a capture opens. That is said in one line wherever it strikes.
    """
    argv = sys.argv[1:] if argv is None else argv
    tool = argv[0] if argv and argv[0] in TOOLS else None
    try:
        return _run(argv, tool)
    except OSError as e:
        if e.errno not in (errno.EMFILE, errno.ENFILE):
            raise
        print(f"rawtools{' ' + tool if tool else ''}: too few file descriptors "
              f"({e.strerror}; raise ulimit -n)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(argv: list[str], tool: str | None) -> int:
    parser, module = build_parser(tool)
    args = parser.parse_args(argv)
    assert module is not None  # argparse exits unless a known tool was named
    # Die quietly on a closed pipe (`rawtools sniff ... | head`) as C tools do.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        return module.run(args)
    except RawtoolsError as e:
        print(f"rawtools {args.tool}: {e}", file=sys.stderr)
        return e.exit_code
