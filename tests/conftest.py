"""Fixtures of this test suite; the lab fixture itself comes from `rawtools.testing.plugin`."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rawtools.testing.lab import Lab

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
CORPUS = ROOT / "tests" / "corpus"


@pytest.fixture
def lab3(make_lab) -> Lab:
    """host -> r1 -> r2 -> r3 -> dst."""
    return make_lab(3)


def rawtools_argv(*args: str) -> list[str]:
    """argv running this checkout's rawtools with the interpreter running pytest."""
    return [sys.executable, "-m", "rawtools", *args]


def without_privileges(argv: list[str]) -> list[str]:
    """argv run as root but with every capability dropped (no CAP_NET_RAW).

    This is what an ordinary user has for sockets, while file access stays
    that of the checkout's owner, wherever CI cloned it.
    """
    return ["setpriv", "--inh-caps=-all", "--bounding-set=-all", *argv]


def _in_root_netns() -> bool:
    try:
        return os.stat("/proc/self/ns/net").st_ino == os.stat("/proc/1/ns/net").st_ino
    except OSError:
        return False


def _guarded(method_name: str) -> Any:
    """A socket method that refuses to reach the machine's network from the test process.

    Probes belong in a lab's namespaces; the test process lives in the
    machine's own, whose default route leads off the machine. A live API
    call whose argument check regressed (or a test that forgot to run its
    tool inside the lab) would send real traffic there: it fails instead.
    """
    original = getattr(socket.socket, method_name)

    def guarded(self: socket.socket, *args: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and args:
            addr = {"connect": args[0], "sendto": args[-1],
                    "sendmsg": args[3] if len(args) > 3 else None}[method_name]
            host = addr[0] if isinstance(addr, tuple) and addr else None
            if isinstance(host, str) and not ipaddress.ip_address(host.split("%")[0]).is_loopback:
                raise RuntimeError(f"test process sent to {host} from the machine's own "
                                   "network namespace: run it inside a lab")
        return original(self, *args)

    return guarded


@pytest.fixture(autouse=True, scope="session")
def _no_traffic_off_the_lab() -> Iterator[None]:
    if not _in_root_netns():
        yield
        return
    saved = {m: getattr(socket.socket, m) for m in ("sendto", "sendmsg", "connect")}
    for m in saved:
        setattr(socket.socket, m, _guarded(m))
    yield
    for m, f in saved.items():
        setattr(socket.socket, m, f)
