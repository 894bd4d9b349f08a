"""rawtools: packet-level network tools over libpcap and raw sockets.

The Python API mirrors the CLI and returns typed dataclasses. Importing the
package is cheap: each public function lives in `rawtools.tools.<tool>.api`
and is loaded on first use, so a script that only pings never loads libpcap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "ping": "rawtools.tools.ping.api",
    "trace": "rawtools.tools.trace.api",
    "sniff": "rawtools.tools.sniff.api",
    "ifaces": "rawtools.tools.ifaces.api",
}
__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'rawtools' has no attribute {name!r}")
