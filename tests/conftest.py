"""Fixtures of this test suite; the lab fixture itself comes from `rawtools.testing.plugin`."""

from __future__ import annotations

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
