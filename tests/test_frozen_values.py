"""Parsed packets, protocol messages and events are frozen, slotted values.

An engine hands its events to the CLI, the JSON writer and the caller's code
at once, and the wire parsers' results are shared the same way: if one of
them could be changed in place, one consumer could corrupt what the next one
sees. Slots keep the per-packet objects small and make a misspelt attribute
an error instead of a silent new field.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import pytest

import rawtools.tools
import rawtools.wire


def _value_modules() -> list[str]:
    names = [f"rawtools.wire.{m.name}" for m in pkgutil.iter_modules(rawtools.wire.__path__)]
    for tool in pkgutil.iter_modules(rawtools.tools.__path__):
        for part in ("events", "engine", "mda"):
            name = f"rawtools.tools.{tool.name}.{part}"
            try:
                importlib.import_module(name)
            except ModuleNotFoundError:
                continue
            names.append(name)
    return [*names, "rawtools.engine"]


# Engine-internal state that changes as the engine runs, never handed out.
MUTABLE_STATE = {"rawtools.tools.ping.engine": {"PingOptions", "Target", "Probe", "RttStats"}}


def _values() -> list[type]:
    out = []
    for name in _value_modules():
        mod = importlib.import_module(name)
        for obj in vars(mod).values():
            if isinstance(obj, type) and dataclasses.is_dataclass(obj) \
                    and obj.__module__ == name \
                    and obj.__name__ not in MUTABLE_STATE.get(name, set()):
                out.append(obj)
    return out


VALUES = _values()


def test_the_values_are_found() -> None:
    names = {c.__name__ for c in VALUES}
    assert {"Icmp", "Quote", "IcmpError", "InterfaceInfo", "Send", "Received", "HopDone",
            "Reply", "Delivered", "UdpCheck"} <= names


@pytest.mark.parametrize("cls", VALUES, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_value_is_frozen_and_slotted(cls: type) -> None:
    assert cls.__dataclass_params__.frozen, f"{cls.__name__} can be changed in place"  # type: ignore[attr-defined]
    assert "__slots__" in cls.__dict__, f"{cls.__name__} has no __slots__"
