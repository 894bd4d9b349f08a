"""What the daemon itself reports, beside the engine's events, and the JSON of all of them.

The engine says which error went where (`events`); the server and the
session add what happens to clients and to the daemon: a connection and
its credentials, a registration accepted or refused, a client gone, a
notice. Each is a frozen dataclass (the project's habit), so the text and
the JSON renderers read the same facts and a test can compare them whole.
"""

from __future__ import annotations

import dataclasses
import errno as errnos
from typing import Any

from rawtools.tools.icmpd.events import Delivered, IcmpdEvent, Malformed, Unmatched
from rawtools.values import frozen, mutable


@frozen
class Started:
    """The daemon listens: its socket, who may connect, who it runs as, its pid."""

    socket: str
    mode: int
    group: str | None
    user: str
    pid: int


@frozen
class Connected:
    """A client connected; its credentials as the kernel saw them (SO_PEERCRED)."""

    client: int
    pid: int
    uid: int
    gid: int


@frozen
class Registered:
    """A client's UDP socket is watched from now on (`reg` is the daemon's number)."""

    client: int
    tag: int
    reg: int
    version: int
    addr: str
    port: int
    dual: bool


@frozen
class Refused:
    """A REGISTER the daemon answered with an errno; the connection stays."""

    client: int
    tag: int
    errno: int
    reason: str


@frozen
class Unregistered:
    client: int
    tag: int
    found: bool


@frozen
class Disconnected:
    """A client is gone: it closed, broke the protocol, or its socket failed."""

    client: int
    reason: str
    registrations: int
    unsent: int
    protocol_error: bool = False


@frozen
class Notice:
    """Something an operator should read that is not about one client."""

    text: str


@mutable
class Counts:
    """The daemon's totals, printed at exit (the JSON summary)."""

    clients: int = 0
    registrations: int = 0
    refused: int = 0
    protocol_errors: int = 0
    packets: int = 0
    delivered: int = 0
    dropped: int = 0
    unmatched: int = 0
    malformed: int = 0
    ignored: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


DaemonEvent = Started | Connected | Registered | Refused | Unregistered | Disconnected | Notice
Event = DaemonEvent | IcmpdEvent


def errno_name(n: int) -> str:
    return errnos.errorcode.get(n, str(n))


def event_record(ev: Event) -> tuple[str, dict[str, Any]]:
    """(JSON type, fields) of an event; an ERROR's fields are the message's own names."""
    if isinstance(ev, Delivered):
        e = ev.error
        return "error", {"client": ev.client, "reg": ev.reg, "tag": e.tag,
                         "version": e.version, "icmp_type": e.type, "icmp_code": e.code,
                         "errno": e.errno_name, "offender": e.offender, "ttl": e.ttl,
                         "mtu": e.mtu, "local": e.local, "lport": e.lport, "dst": e.dst,
                         "dport": e.dport, "rewritten": list(e.rewritten), "ts_ns": e.ts_ns}
    if isinstance(ev, Unmatched | Malformed):
        kind = "unmatched" if isinstance(ev, Unmatched) else "malformed"
        fields = dataclasses.asdict(ev)
        if isinstance(ev, Unmatched):
            fields["icmp_type"], fields["icmp_code"] = fields.pop("type"), fields.pop("code")
        return kind, fields
    kind = {Started: "start", Connected: "connect", Registered: "register", Refused: "refused",
            Unregistered: "unregister", Disconnected: "disconnect", Notice: "notice"}[type(ev)]
    fields = dataclasses.asdict(ev)
    if isinstance(ev, Refused):
        fields["errno"] = errno_name(ev.errno)
    if isinstance(ev, Started):
        fields["mode"] = f"{ev.mode:04o}"
    return kind, fields
