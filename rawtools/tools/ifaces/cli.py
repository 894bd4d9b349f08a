"""`rawtools ifaces`: interfaces, flags, MTU and addresses, as text or JSON."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from rawtools.errors import InterfaceError
from rawtools.jsonout import JsonLines
from rawtools.net.interfaces import Interface, list_interfaces
from rawtools.tools.options import add_json_flag


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="IFACE", help="only these interfaces")
    add_json_flag(p)


def render(iface: Interface) -> str:
    """ip-link-like block: index, name, flags, MTU, then one line per address."""
    lines = [f"{iface.index}: {iface.name}: <{','.join(iface.flags)}> mtu {iface.mtu}"]
    if iface.link_addr:
        lines.append(f"    link {iface.link_addr}")
    for a in iface.ipv4:
        extra = f" brd {a.broadcast}" if a.broadcast else (f" peer {a.peer}" if a.peer else "")
        lines.append(f"    inet {a}{extra}")
    for a in iface.ipv6:
        lines.append(f"    inet6 {a}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    found = list_interfaces()
    if args.names:
        known = {i.name for i in found}
        missing = [n for n in args.names if n not in known]
        if missing:
            raise InterfaceError(f"{missing[0]}: no such interface")
        found = [i for i in found if i.name in args.names]
    if args.json:
        out = JsonLines("ifaces")
        for iface in found:
            out.emit("interface", **asdict(iface))
        out.emit("summary", count=len(found), names=[i.name for i in found])
    else:
        print("\n".join(render(i) for i in found))
    return 0
