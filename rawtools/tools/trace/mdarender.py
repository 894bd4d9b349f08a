"""A multipath trace as text, as JSON records and as a Graphviz graph.

The text keeps traceroute's habits where they carry over (the hop number in
two columns, `name (addr)` unless -n, `*` for what did not answer, `!X`
notes), and adds what a multipath trace is about: each hop lists the set of
interfaces found there, and under it the links that lead into them from the
hop before. The JSON is those same hops, one object each as they settle, and
a summary last (schema rawtools/1, as every tool); the DOT file draws the
same links, so the three can be checked against one another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rawtools.tools.trace.hops import MS
from rawtools.tools.trace.mda import STAR, Interface, MdaHop
from rawtools.tools.trace.mdasession import MdaResult

NameOf = Callable[[str], str]


def _plain(addr: str) -> str:
    return addr


def header(result: MdaResult, max_ttl: int) -> str:
    return (f"traceroute --mda to {result.host} ({result.addr}), {max_ttl} hops max, "
            f"{result.method.upper()} flows, {result.confidence}% confidence")


def _shown(i: Interface, name_of: NameOf) -> str:
    return name_of(i.addr) + (f" {i.note}" if i.note else "")


def hop_lines(hop: MdaHop, name_of: NameOf | None = None) -> list[str]:
    """` 2  a  b  c`, then `      a -> b` for each link into the hop (none into the first)."""
    name = name_of or _plain
    shown = [_shown(i, name) for i in hop.interfaces]
    if hop.lost:
        shown.append(STAR)
    lines = [f"{hop.ttl:2d}  " + "  ".join(shown)]
    for link in hop.links:
        src = link.src if link.src == STAR else name(link.src)
        dst = link.dst if link.dst == STAR else name(link.dst)
        lines.append(f"      {src} -> {dst}")
    return lines


def footer(result: MdaResult) -> str:
    """The run in one line: what was found and what it cost."""
    c = result.counters
    found = sum(len(h.interfaces) for h in result.hops)
    return (f"{result.paths} path{'s' if result.paths != 1 else ''}, {found} interfaces, "
            f"{len(result.links)} links; {c.sent} probes, {c.answers} answers"
            + ("; interrupted" if result.interrupted else ""))


def hop_record(hop: MdaHop) -> dict[str, Any]:
    """The JSON event of one settled hop (rtt in milliseconds)."""
    return {
        "ttl": hop.ttl,
        "interfaces": [{"addr": i.addr, "flows": list(i.flows), "rtt_ms": i.rtt_ns / MS,
                        "kind": i.kind, "note": i.note or None, "final": i.final,
                        "reply_ttl": i.reply_ttl} for i in hop.interfaces],
        "links": [{"from": link.src, "to": link.dst} for link in hop.links],
        "probes": hop.probes, "flows": hop.flows, "lost": hop.lost,
    }


def _quoted(*lines: str) -> str:
    """A DOT string of `lines`, quotes and backslashes escaped, joined by DOT's newline."""
    return '"' + "\\n".join(t.replace("\\", "\\\\").replace('"', '\\"') for t in lines) + '"'


def dot(result: MdaResult, name_of: NameOf | None = None) -> str:
    """The links as a Graphviz digraph, the source on top and one rank per hop.

    A node is an address, wherever it appears; the anonymous node of a
    silent hop is one per hop ("*" labelled, hop-numbered id). An address
    seen at one hop only is ranked with that hop.
    """
    name = name_of or _plain
    hops_of: dict[str, list[int]] = {}
    for hop in result.hops:
        for a in hop.addrs or [STAR]:
            hops_of.setdefault(a if a != STAR else f"*{hop.ttl}", []).append(hop.ttl)

    def node(addr: str, ttl: int) -> str:
        return _quoted(f"*{ttl}" if addr == STAR else addr)

    lines = [f"digraph {_quoted('traceroute --mda to ' + result.host)} {{",
             "  rankdir=TB;",
             '  node [shape=box, fontname="monospace"];',
             f"  {_quoted(result.src)} [label={_quoted(name(result.src))}, shape=ellipse];"]
    for key, ttls in hops_of.items():
        label = _quoted(STAR if key.startswith("*") else name(key),
                        "hop " + ", ".join(map(str, ttls)))
        lines.append(f"  {_quoted(key)} [label={label}];")
    for hop in result.hops:
        alone = [k for k, t in hops_of.items() if t == [hop.ttl]]
        if alone:
            lines.append("  { rank=same; " + " ".join(_quoted(k) for k in alone) + " }")
    if result.hops:
        first = result.hops[0]
        for a in first.addrs or [STAR]:
            lines.append(f"  {_quoted(result.src)} -> {node(a, first.ttl)};")
    for link in result.links:
        lines.append(f"  {node(link.src, link.ttl)} -> {node(link.dst, link.ttl + 1)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
