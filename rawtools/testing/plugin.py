"""The pytest plugin installed with rawtools: a `make_lab` fixture and the `lab` marker.

pytest loads it through the `pytest11` entry point in every environment that
has rawtools, so it imports nothing beyond the standard library and the lab
until a test asks for a fixture.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from rawtools.testing.lab import Lab
from rawtools.testing.netns import can_build


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "lab: needs root and network namespaces (builds its own topology)")


def lab_skip_reason() -> str | None:
    """Why lab tests cannot run here; under CI (the CI variable set) they must, so it fails."""
    reason = can_build()
    if reason and os.environ.get("CI"):
        pytest.fail(f"lab tests must run in CI: {reason}")
    return reason


@pytest.fixture
def make_lab() -> Iterator[Callable[..., Lab]]:
    """Factory: `make_lab(routers=3, **kw)` builds a Lab that is torn down after the test."""
    labs: list[Lab] = []

    def factory(routers: int = 3, **kw: Any) -> Lab:
        reason = lab_skip_reason()
        if reason:
            pytest.skip(reason)
        lab = Lab(routers, **kw)
        labs.append(lab)
        return lab.up()

    yield factory
    for lab in labs:
        lab.down()
