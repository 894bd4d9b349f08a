"""Shared fixtures: the namespace lab and helpers to run rawtools inside it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from lab import Lab, can_build  # noqa: E402

CAPTURES = ROOT / "captures"
CORPUS = ROOT.parent / "shared" / "pcap-corpus"


def lab_skip_reason() -> str | None:
    """Why lab tests cannot run here; in CI (root) they must, so it fails instead."""
    reason = can_build()
    if reason and os.environ.get("CI"):
        pytest.fail(f"lab tests must run in CI: {reason}")
    return reason


@pytest.fixture
def make_lab():
    """Factory: make_lab(routers=3, **kw) builds a Lab torn down after the test."""
    labs: list[Lab] = []

    def factory(routers: int = 3, **kw) -> Lab:
        reason = lab_skip_reason()
        if reason:
            pytest.skip(reason)
        lab = Lab(routers, **kw)
        labs.append(lab)
        return lab.up()

    yield factory
    for lab in labs:
        lab.down()


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
