"""rawtools: packet-level network tools over libpcap and raw sockets.

The Python API mirrors the CLI and returns typed dataclasses. Importing the
package stays cheap: each public name lives in `rawtools.tools.<tool>.api`
and is loaded on first use, so a script that only pings never loads libpcap.
Type checkers and `dir()` still see every name: the imports below run only
for them (TYPE_CHECKING), and `__dir__` lists what `__getattr__` serves.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from typing import Any

    from rawtools import aio
    from rawtools.tools.doctor.api import Check, DoctorResult, doctor
    from rawtools.tools.ifaces.api import Address, Interface, ifaces
    from rawtools.tools.inject.api import InjectResult, inject
    from rawtools.tools.ping.api import PingResult, TargetResult, ping
    from rawtools.tools.sniff.api import SniffedPacket, SniffSession, sniff
    from rawtools.tools.trace.api import Hop, Probe, TraceResult, trace
    from rawtools.tools.trace.mdaapi import MdaResult, trace_mda
    from rawtools.tools.udpcksum.api import UdpCksumResult, udpcksum

_API = {
    "ping": "rawtools.tools.ping.api",
    "PingResult": "rawtools.tools.ping.api",
    "TargetResult": "rawtools.tools.ping.api",
    "trace": "rawtools.tools.trace.api",
    "TraceResult": "rawtools.tools.trace.api",
    "Hop": "rawtools.tools.trace.api",
    "Probe": "rawtools.tools.trace.api",
    "trace_mda": "rawtools.tools.trace.mdaapi",
    "MdaResult": "rawtools.tools.trace.mdaapi",
    "udpcksum": "rawtools.tools.udpcksum.api",
    "UdpCksumResult": "rawtools.tools.udpcksum.api",
    "sniff": "rawtools.tools.sniff.api",
    "SniffedPacket": "rawtools.tools.sniff.api",
    "SniffSession": "rawtools.tools.sniff.api",
    "inject": "rawtools.tools.inject.api",
    "InjectResult": "rawtools.tools.inject.api",
    "ifaces": "rawtools.tools.ifaces.api",
    "Interface": "rawtools.tools.ifaces.api",
    "Address": "rawtools.tools.ifaces.api",
    "doctor": "rawtools.tools.doctor.api",
    "DoctorResult": "rawtools.tools.doctor.api",
    "Check": "rawtools.tools.doctor.api",
}
__all__ = [
    "Address", "Check", "DoctorResult", "Hop", "InjectResult", "Interface", "MdaResult",
    "PingResult", "Probe", "SniffSession", "SniffedPacket", "TargetResult", "TraceResult",
    "UdpCksumResult", "aio", "doctor", "ifaces", "inject", "ping", "sniff", "trace",
    "trace_mda", "udpcksum",
]


def __getattr__(name: str) -> Any:
    if name == "aio":  # the asyncio forms, a module of their own: `await rawtools.aio.ping(...)`
        value = importlib.import_module("rawtools.aio")
        globals()[name] = value
        return value
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'rawtools' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    """The public API and the module's dunders, not the helpers imported above."""
    return sorted({*__all__, *(n for n in globals() if n.startswith("__"))})
