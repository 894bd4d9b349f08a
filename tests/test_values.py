"""Records behave as the dataclasses they replace, with `dataclasses` itself as the oracle.

Each record here has a twin declared with `@dataclass` and the same fields;
whatever the twin does (repr, equality, hashing, refusing assignment, what
`fields`, `asdict` and `replace` say) the record must do too, since scripts
use rawtools' results as the dataclasses the README promises.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import dataclass

import pytest

from rawtools.values import field, field_names, frozen, mutable


@frozen
class Point:
    x: int
    y: int = 2
    tags: tuple[str, ...] = ()
    blob: bytes = field(default=b"", repr=False)
    seen: list[int] = field(default_factory=list, compare=False)


@dataclass(frozen=True, slots=True)
class PointTwin:
    x: int
    y: int = 2
    tags: tuple[str, ...] = ()
    blob: bytes = dataclasses.field(default=b"", repr=False)
    seen: list[int] = dataclasses.field(default_factory=list, compare=False)


@mutable
class Tally:
    sent: int = 0
    names: list[str] = field(default_factory=list)


@dataclass(slots=True)
class TallyTwin:
    sent: int = 0
    names: list[str] = dataclasses.field(default_factory=list)


@frozen
class Labelled(Point):
    label: str = "a"


@dataclass(frozen=True, slots=True)
class LabelledTwin(PointTwin):
    label: str = "a"


def _pairs() -> list[tuple[object, object]]:
    return [
        (Point(1), PointTwin(1)),
        (Point(1, 5, ("a",), b"\x00", [3]), PointTwin(1, 5, ("a",), b"\x00", [3])),
        (Point(x=-7, blob=b"zz"), PointTwin(x=-7, blob=b"zz")),
        (Tally(), TallyTwin()),
        (Tally(3, ["x"]), TallyTwin(3, ["x"])),
        (Labelled(4, label="b"), LabelledTwin(4, label="b")),
    ]


@pytest.mark.parametrize("rec,twin", _pairs(), ids=repr)
def test_repr_asdict_fields_as_the_dataclass_twin(rec, twin):
    assert repr(rec) == repr(twin).replace("Twin(", "(")
    assert dataclasses.is_dataclass(rec) and dataclasses.is_dataclass(type(rec))
    assert dataclasses.asdict(rec) == dataclasses.asdict(twin)
    assert dataclasses.astuple(rec) == dataclasses.astuple(twin)
    ours = [(f.name, f.repr, f.compare) for f in dataclasses.fields(rec)]
    assert ours == [(f.name, f.repr, f.compare) for f in dataclasses.fields(twin)]
    assert field_names(rec) == tuple(f.name for f in dataclasses.fields(twin))
    assert type(rec).__match_args__ == type(twin).__match_args__
    assert type(rec).__dataclass_params__.frozen == type(twin).__dataclass_params__.frozen


def test_equality_and_hash_follow_the_compared_fields():
    a, b = Point(1, seen=[1]), Point(1, seen=[2])  # `seen` is not compared
    ta, tb = PointTwin(1, seen=[1]), PointTwin(1, seen=[2])
    assert (a == b) is (ta == tb) is True
    assert (hash(a) == hash(b)) is (hash(ta) == hash(tb)) is True
    assert (Point(1) == Point(2)) is (PointTwin(1) == PointTwin(2)) is False
    assert Point(1) != PointTwin(1)  # another class, even with the same fields
    assert Point(1) != Labelled(1)  # a subclass is another class too, as for dataclasses
    assert len({Point(1), Point(1), Point(2)}) == 2
    with pytest.raises(TypeError):
        hash(Tally())
    with pytest.raises(TypeError):
        hash(TallyTwin())
    assert Tally(1, ["a"]) == Tally(1, ["a"]) and Tally(1) != Tally(2)


def test_frozen_refuses_what_the_dataclass_refuses():
    p, t = Point(1), PointTwin(1)
    for obj in (p, t):
        with pytest.raises(AttributeError):
            obj.x = 2  # type: ignore[misc]
        with pytest.raises(AttributeError):
            del obj.x  # type: ignore[misc]
        assert not hasattr(obj, "__dict__")
    # A name that is no field: refused too (Python 3.11's slotted frozen dataclass
    # raises TypeError from its own __setattr__ here, so the twin is no oracle).
    with pytest.raises(AttributeError):
        p.other = 1  # type: ignore[attr-defined]
    tally = Tally()
    tally.sent += 2
    assert tally.sent == 2
    with pytest.raises(AttributeError):
        tally.other = 1  # type: ignore[attr-defined]


def test_defaults_made_per_instance_and_required_fields_required():
    a, b = Point(1), Point(1)
    assert a.seen is not b.seen and Tally().names is not Tally().names
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, 2, (), b"", [], 9)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, z=3)  # type: ignore[call-arg]


def test_replace_copy_and_pickle_round_trip():
    p = Labelled(1, 2, ("t",), b"b", [9], "l")
    q = dataclasses.replace(p, y=7)
    assert (q.x, q.y, q.label, type(q)) == (1, 7, "l", Labelled)
    for clone in (copy.copy(p), copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert clone == p and clone is not p and clone.seen == [9]
    t = Tally(4, ["n"])
    assert pickle.loads(pickle.dumps(t)) == t


def test_post_init_runs_after_the_fields_are_set():
    calls = []

    @mutable
    class Checked:
        n: int

        def __post_init__(self) -> None:
            calls.append(self.n)
            if self.n < 0:
                raise ValueError("negative")

    Checked(3)
    with pytest.raises(ValueError):
        Checked(-1)
    assert calls == [3, -1]


def test_a_class_body_method_is_kept():
    @frozen
    class Shown:
        n: int

        def __repr__(self) -> str:
            return f"<{self.n}>"

    assert repr(Shown(5)) == "<5>" and Shown(5) == Shown(5)


def test_slots_the_body_declares_are_kept():
    """A `__dict__` slot is how a record gets a functools.cached_property."""
    from functools import cached_property

    @mutable
    class Cached:
        __slots__ = ("__dict__",)
        n: int

        @cached_property
        def double(self) -> int:
            return self.n * 2

    c = Cached(4)
    assert c.double == 8 and c.__dict__ == {"double": 8} and Cached(4) == c
