"""Fixtures of this test suite; the lab fixture itself comes from `rawtools.testing.plugin`."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

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



def _leave_the_machines_network() -> None:
    """Move this test process, and every process it starts, into an empty network namespace.

    Probes belong in a lab's namespaces; the machine's own has a default
    route that leads off the machine. A test that runs a tool outside its
    lab, or whose refused argument became valid (`ping A B` once refused
    mixed IPv4 and IPv6, later pinged both), would send real traffic
    there. In a namespace of its own with only loopback, such a probe finds
    no route; labs are still reached by name (`ip netns exec`).
    """
    if os.geteuid() != 0 or os.environ.get("RAWTOOLS_TEST_HOST_NETWORK"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x40000000) != 0:  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET) for the test run")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


_leave_the_machines_network()
