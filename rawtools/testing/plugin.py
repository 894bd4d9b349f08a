"""The pytest plugin installed with rawtools: `make_lab`, `recording` and the `lab` marker.

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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--rawtools-record", action="store_true",
                     help="record every `recording` fixture again (root, namespaces)")


@pytest.fixture
def recording(request: pytest.FixtureRequest,
              make_lab: Callable[..., Lab]) -> Callable[..., str]:
    """Record a diagnostic once against a lab, replay it in every run after.

    `recording(name, record, routers=3, **lab_options)` returns the path of
    `recordings/NAME.pcap` beside the test file. When the file is missing
    (or with --rawtools-record) it builds the lab and calls `record(lab,
    path)`, which runs a tool there with `--record path`; that needs root
    once. Afterwards the test replays the file (`--replay`, `replay=`) with
    no privileges and no lab, so the suite runs anywhere, and a change that
    makes the tool part from its recording fails with where it diverged.
    """

    def get(name: str, record: Callable[[Lab, str], object], routers: int = 3,
            **lab_options: Any) -> str:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"recording name {name!r}: a plain file name, without .pcap")
        path = request.path.parent / "recordings" / f"{name}.pcap"
        if path.exists() and not request.config.getoption("--rawtools-record"):
            return str(path)
        lab = make_lab(routers, **lab_options)  # skips, with the reason, without root
        path.parent.mkdir(exist_ok=True)
        # Under sudo the tool gives up root, for the invoking user, before it
        # opens the file: the folder must be that user's (it is theirs anyway).
        if os.environ.get("SUDO_UID", "").isdigit():
            os.chown(path.parent, int(os.environ["SUDO_UID"]),
                     int(os.environ.get("SUDO_GID", "-1") or -1))
        record(lab, str(path))
        if not path.exists():
            raise RuntimeError(f"{name}: the record function wrote nothing to {path}")
        return str(path)

    return get
