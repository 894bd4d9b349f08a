"""`rawtools <tool> ...`: one subcommand per tool, errors as one line.

Only the chosen tool's module is imported, so `rawtools --help` and a
mistyped flag answer without loading dpkt or libpcap. Each tool lives in
`rawtools.tools.<name>.cli` with `add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import errno
import gc
import importlib
import os
import signal
import sys

from rawtools import __version__
from rawtools.errors import RawtoolsError

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from typing import Any, NoReturn, Protocol

    class ToolCli(Protocol):
        """What `rawtools.tools.<name>.cli` provides."""

        def add_arguments(self, p: argparse.ArgumentParser) -> None: ...

        def run(self, args: argparse.Namespace) -> int: ...

TOOLS = {
    "ping": "send ICMP/ICMPv6 echo requests (iputils ping; several targets or a sweep)",
    "trace": "trace the route to a host with UDP, ICMP or TCP probes",
    "udpcksum": "does a UDP server send checksums? (UNP's prober, on raw IP and libpcap)",
    "sniff": "capture and decode packets with BPF filters, live or from a file",
    "inject": "send the frames of a capture out of an interface (tcpreplay-like)",
    "icmpd": "hand UDP applications the ICMP errors their datagrams caused (UNP's icmpd)",
    "udpcli": "UDP client that learns its ICMP errors from icmpd (UNP's dg_cli)",
    "ifaces": "list interfaces with flags, MTU and addresses",
    "doctor": "diagnose interfaces, gateway, resolvers, and the path and MTU to a host",
}


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as a single line, exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", TerminalWidthFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageExit(self.prog, f"{message} (see --help)")


class UsageExit(Exception):
    """argparse's refusal, raised to `main` so that it is said once: as text, and as JSON
    too under --json. `prog` is the parser that refused ("rawtools" or "rawtools TOOL")."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


class TerminalWidthFormatter(argparse.HelpFormatter):
    """argparse's formatter, sized without importing shutil.

    argparse builds a formatter for every add_argument and imports shutil
    for the terminal width, which pulls in bz2, lzma and fnmatch: 3-5 ms of
    a start that `ping -c 1` should spend probing. COLUMNS, then the
    terminal, then 80, as shutil.get_terminal_size decides.
    """

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Completion(argparse.Action):
    """--completion SHELL, loaded only when given: rawtools.completion reads every tool."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from rawtools.completion import script

        print(script(str(values)), end="")
        parser.exit()


def load_tool(tool: str) -> ToolCli:
    """The CLI module of `tool`, imported now (each tool's modules load only when it runs)."""
    return importlib.import_module(f"rawtools.tools.{tool}.cli")


def build_parser(tool: str | None) -> tuple[argparse.ArgumentParser, ToolCli | None]:
    """The top-level parser, with full flags only for `tool` (if known)."""
    top = OneLineParser(prog="rawtools", description="Packet-level network tools.")
    top.add_argument("--version", action="version", version=f"rawtools {__version__}")
    top.add_argument("--completion", choices=["bash", "zsh"], action=_Completion,
                     help="print a completion script for the shell and exit")
    sub = top.add_subparsers(dest="tool", metavar="TOOL", parser_class=OneLineParser)
    sub.required = True
    if tool is None:
        for name, text in TOOLS.items():
            sub.add_parser(name, help=text, description=text)
        return top, None
    # A named tool needs only its own parser: building all eight costs a
    # start 5-10 ms of argparse and gettext work for help nobody asked for.
    p = sub.add_parser(tool, help=TOOLS[tool], description=TOOLS[tool])
    module = load_tool(tool)
    module.add_arguments(p)
    return top, module


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rawtools` script; returns the process exit code.

    Descriptors can run out anywhere (`ulimit -n 5`): while a module loads,
    a pipe or a capture opens. That is said in one line wherever it strikes.
    """
    argv = sys.argv[1:] if argv is None else argv
    tool = argv[0] if argv and argv[0] in TOOLS else None
    json_tool = None
    try:
        json_tool = _json_tool(tool, argv)
        return _run(argv, tool)
    except UsageExit as e:
        return _failed(e.prog, str(e), 2, json_tool)
    except RawtoolsError as e:
        return _failed(f"rawtools {tool}", str(e), e.exit_code, json_tool)
    except OSError as e:
        if e.errno not in (errno.EMFILE, errno.ENFILE):
            raise
        return _failed(f"rawtools{' ' + tool if tool else ''}",
                       f"too few file descriptors ({e.strerror}; raise ulimit -n)", 2, json_tool)
    except KeyboardInterrupt:
        return 130


def _json_tool(tool: str | None, argv: list[str]) -> str | None:
    """The tool whose failure is also a JSON line: one that has a schema, run with --json.

    Worked out before the run, the JSON writer loaded with it: a failure for
    want of file descriptors must not need one more to import it.
    """
    if tool is None or "--json" not in argv:
        return None
    from rawtools.schemas import TOOLS as JSON_TOOLS

    if tool not in JSON_TOOLS:
        return None
    importlib.import_module("json")
    importlib.import_module("rawtools.jsonout")
    return tool


def _failed(prog: str, message: str, code: int, json_tool: str | None) -> int:
    """A failure as one line on stderr and, under --json, as the `fatal` line on stdout.

    The stderr line stays under --json too: a person watching a script's
    run reads it there, and stdout keeps nothing but JSON lines.
    """
    print(f"{prog}: {message}", file=sys.stderr)
    if json_tool is not None:
        from rawtools.jsonout import dumps, record

        try:
            print(dumps(record(json_tool, "fatal", message=message, exit_code=code)), flush=True)
        except OSError:
            # stdout refuses (a full disk): the stderr line said it. What is still
            # buffered would fail again at exit, with a message of its own.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
    return code


def _run(argv: list[str], tool: str | None) -> int:
    # Loading a tool makes tens of thousands of objects (modules, classes, the
    # parser) that all live until exit; the collector, run every 700
    # allocations, would walk them over and over: an eighth of what
    # `ping -c 1` spent starting. They are frozen out of its way instead.
    gc.disable()
    try:
        parser, module = build_parser(tool)
        args = parser.parse_args(argv)
    finally:
        gc.freeze()
        gc.enable()
    assert module is not None  # argparse refuses unless a known tool was named
    # Die quietly on a closed pipe (`rawtools sniff ... | head`) as C tools do.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    return module.run(args)
