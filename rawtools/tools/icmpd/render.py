"""icmpd's log: one line per happening on stderr, or JSON lines with --json.

A daemon's log is read by an operator tailing the journal, so each line
names its client the same way from connect to disconnect ("client 3") and
an error in iputils' words next to the errno the application will see.
Deliveries, unmatched and malformed packets are per-packet and appear only
with -v: at ten thousand errors a second, the log must not be the load. A
replay prints the same lines on stdout, naming watches instead of clients.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import IO

from rawtools.jsonout import JsonLines
from rawtools.tools.icmpd.events import Delivered, Malformed, Unmatched
from rawtools.tools.icmpd.report import (
    Connected,
    Counts,
    Disconnected,
    Event,
    Notice,
    Refused,
    Registered,
    Started,
    Unregistered,
    errno_name,
    event_record,
)
from rawtools.tools.icmpwords import describe_error
from rawtools.wire.icmp import Icmp
from rawtools.wire.icmpdmsg import IcmpError


def _words(version: int, typ: int, code: int, mtu: int | None) -> str:
    """iputils' wording, which reads only the version, type, code and MTU of a message."""
    return describe_error(Icmp(version, "", "", 0, typ, code, "other", True, mtu=mtu))


def _family(version: int) -> str:
    return f"IPv{version}"


def delivery_text(who: str, e: IcmpError) -> str:
    """`who: ERRNO (words) from OFFENDER ttl N for LOCAL.PORT > DST.PORT`."""
    line = (f"{who}: {e.errno_name} ({_words(e.version, e.type, e.code, e.mtu)}) from "
            f"{e.offender} ttl {e.ttl} for {e.local}.{e.lport} > {e.dst}.{e.dport}")
    if e.rewritten:
        line += f", rewritten on the way ({', '.join(e.rewritten)})"
    return line


def summary_text(c: Counts) -> str:
    return (f"{c.clients} clients, {c.registrations} registrations ({c.refused} refused), "
            f"{c.packets} ICMP packets, {c.delivered} errors delivered, {c.dropped} dropped "
            f"for slow clients, {c.unmatched} unmatched, {c.malformed} malformed, "
            f"{c.protocol_errors} protocol errors")


class TextLog:
    """Log lines; `names` replaces "client N" (a replay names its watches)."""

    def __init__(self, out: IO[str] | None = None, *, verbose: bool = False,
                 names: Mapping[int, str] | None = None) -> None:
        self.out = out or sys.stderr
        self.verbose = verbose
        self.names = names or {}

    def _who(self, client: int) -> str:
        return self.names.get(client) or f"client {client}"

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def __call__(self, ev: Event) -> None:
        self._line(self._text(ev))

    def _text(self, ev: Event) -> str:
        match ev:
            case Delivered(client=c, error=e):
                return delivery_text(self.names.get(c) or f"client {c} tag {e.tag}", e)
            case Unmatched():
                return (f"unmatched: {_words(ev.version, ev.type, ev.code, ev.mtu)} from "
                        f"{ev.offender} for {ev.src}.{ev.sport} > {ev.dst}.{ev.dport}")
            case Malformed():
                return f"malformed: {ev.reason}"
            case Started():
                group = f", group {ev.group}" if ev.group else ""
                return (f"icmpd: listening on {ev.socket} (mode {ev.mode:04o}{group}), "
                        f"ICMP and ICMPv6 raw sockets open, running as {ev.user}, pid {ev.pid}")
            case Connected():
                return (f"{self._who(ev.client)} connected: pid {ev.pid} uid {ev.uid} "
                        f"gid {ev.gid}")
            case Registered():
                dual = ", IPv4 too" if ev.version == 6 and ev.dual else ""
                return (f"{self._who(ev.client)} registered tag {ev.tag}: UDP "
                        f"{_family(ev.version)} {ev.addr} port {ev.port}{dual}")
            case Refused():
                return (f"{self._who(ev.client)} tag {ev.tag} refused: {errno_name(ev.errno)} "
                        f"({ev.reason})")
            case Unregistered():
                what = "unregistered" if ev.found else "asked to unregister unknown"
                return f"{self._who(ev.client)} {what} tag {ev.tag}"
            case Disconnected():
                extra = f", {ev.unsent} messages unsent" if ev.unsent else ""
                return (f"{self._who(ev.client)} gone: {ev.reason} ({ev.registrations} "
                        f"registrations closed{extra})")
            case Notice():
                return f"icmpd: {ev.text}"

    def summary(self, counts: Counts) -> None:
        self._line(f"icmpd: stopped: {summary_text(counts)}")

    def replay_summary(self, c: Counts) -> None:
        self._line(f"{c.registrations} watches, {c.packets} packets: {c.delivered} errors "
                   f"delivered, {c.unmatched} unmatched, {c.malformed} malformed, "
                   f"{c.ignored} not errors")


class JsonLog:
    """The same happenings as JSON lines (schema rawtools/1), the counts as the summary."""

    def __init__(self, out: IO[str] | None = None, *, verbose: bool = False) -> None:
        self.lines = JsonLines("icmpd", out)
        self.verbose = verbose

    def __call__(self, ev: Event) -> None:
        kind, fields = event_record(ev)
        self.lines.emit(kind, **fields)

    def summary(self, counts: Counts) -> None:
        self.lines.emit("summary", **counts.to_dict())

    replay_summary = summary


Log = TextLog | JsonLog
