"""Records: the dataclasses of rawtools, built without the dataclasses module.

Why not `@dataclass`: importing `dataclasses` loads inspect, ast, dis and
tokenize, and each class it builds compiles four or five methods from
generated source. Measured on `rawtools ping -c 1`, that was a third of its
start-up (about 30 of 70 ms of imports for 22 classes), for a tool whose
whole job is one round trip of a millisecond. Here a record compiles only
its `__init__` (so building the many per-packet values stays as fast as a
dataclass's), and only when the first one is built; `__repr__`, `__eq__`,
`__hash__` and the frozen guard are shared functions driven by the field
names.

A record is still a dataclass to everything that asks: `dataclasses.fields`,
`asdict`, `replace` and `is_dataclass` work on it, through a
`__dataclass_fields__` that is built, by `dataclasses` itself, the first
time one of them looks (a script's `asdict(result)`, a test). Type checkers
see `frozen`/`mutable` as `dataclass_transform` decorators (PEP 681).

Supported, because rawtools uses it: defaults, `field(default=,
default_factory=, repr=, compare=)`, `__post_init__`, and a record
inheriting another's fields (the base's first). Every record has slots,
and keeps the ones its class body declares besides.
"""

from __future__ import annotations

from operator import attrgetter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform

    T = TypeVar("T")

_MISSING: Any = object()


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen record (dataclasses raises its own of the same name)."""


class Field:
    """How one field is built and shown; what `field()` returns into the class body."""

    __slots__ = ("compare", "default", "factory", "repr")

    def __init__(self, default: Any, factory: Callable[[], Any] | Any, repr: bool,
                 compare: bool) -> None:
        self.default = default
        self.factory = factory
        self.repr = repr
        self.compare = compare


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | Any = _MISSING,
          repr: bool = True, compare: bool = True) -> Any:
    """A field with a default made per instance (`default_factory`), or kept out of
    `repr` or of equality, as `dataclasses.field` has it."""
    return Field(default, default_factory, repr, compare)


if TYPE_CHECKING:
    @dataclass_transform(frozen_default=True, field_specifiers=(field,))
    def frozen(cls: type[T]) -> type[T]: ...

    @dataclass_transform(field_specifiers=(field,))
    def mutable(cls: type[T]) -> type[T]: ...
else:
    def frozen(cls):
        """A record whose fields cannot be assigned after `__init__`: values handed out."""
        return _build(cls, True)

    def mutable(cls):
        """A record whose fields can change: an engine's or a session's own state."""
        return _build(cls, False)


def field_names(cls_or_record: Any) -> tuple[str, ...]:
    """The record's fields in order, without loading `dataclasses`."""
    names: tuple[str, ...] = cls_or_record._record_fields
    return names


def _build(cls: type, is_frozen: bool) -> type:
    specs: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        specs.update(getattr(base, "_record_specs", {}))
    inherited = set(specs)
    body = dict(cls.__dict__)
    own: list[str] = []
    for name, ann in body.get("__annotations__", {}).items():
        if isinstance(ann, str) and ann.startswith(("ClassVar", "typing.ClassVar")):
            continue
        value = body.pop(name, _MISSING)
        specs[name] = value if isinstance(value, Field) else Field(value, _MISSING, True, True)
        if name not in inherited:
            own.append(name)
    names = tuple(specs)
    # Slots the class body names itself stay beside the fields' ("__dict__" lets a
    # functools.cached_property cache there); the first class made their descriptors.
    extra = tuple(cls.__dict__.get("__slots__", ()))
    for name in ("__dict__", "__weakref__", *extra):
        body.pop(name, None)
    body["__slots__"] = (*own, *extra)
    body["_record_specs"] = specs
    body["_record_fields"] = names
    body["_record_frozen"] = is_frozen
    body["__match_args__"] = names
    compared = tuple(n for n, f in specs.items() if f.compare)
    body["_record_key"] = attrgetter(*compared) if compared else _no_key
    body["_record_shown"] = tuple(n for n, f in specs.items() if f.repr)
    body.setdefault("__repr__", _repr)
    body.setdefault("__eq__", _eq)
    if is_frozen:
        body.update(__setattr__=_refuse_set, __delattr__=_refuse_del,
                    __getstate__=_getstate, __setstate__=_setstate)
        body.setdefault("__hash__", _hash)
    elif body.get("__hash__") is None:
        body["__hash__"] = None  # mutable and compared by value: unhashable, as dataclasses
    body["__dataclass_fields__"] = _DataclassView("__dataclass_fields__")
    body["__dataclass_params__"] = _DataclassView("__dataclass_params__")
    new = type(cls)(cls.__name__, cls.__bases__, body)
    # The slots exist only now, and `__init__` writes through their descriptors.
    type.__setattr__(new, "__init__", _compile_on_first_use(new, specs))
    return new


def _compile_on_first_use(cls: type, specs: dict[str, Field]) -> Any:
    """An `__init__` that compiles the real one the first time the record is built.

    Compiling is most of what a record costs to define, and a run builds few
    of the records it loads (`ping -c 1` meets no ICMP error): those it never
    builds cost nothing. Later instances call the compiled `__init__` directly.
    """
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init = _init(cls, specs)
        type.__setattr__(cls, "__init__", init)
        init(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _init(cls: type, specs: dict[str, Field]) -> Any:
    """`__init__` compiled for this record, setting each slot through its descriptor
    (which is how a frozen record's own `__setattr__` is passed by)."""
    env: dict[str, Any] = {"_MISSING": _MISSING}
    params, lines = ["self"], []
    for i, (name, spec) in enumerate(specs.items()):
        env[f"_set{i}"] = _slot_setter(cls, name)
        if spec.factory is not _MISSING:
            env[f"_make{i}"] = spec.factory
            params.append(f"{name}=_MISSING")
            lines.append(f"_set{i}(self, _make{i}() if {name} is _MISSING else {name})")
        else:
            if spec.default is not _MISSING:
                env[f"_default{i}"] = spec.default
                params.append(f"{name}=_default{i}")
            else:
                params.append(name)
            lines.append(f"_set{i}(self, {name})")
    if hasattr(cls, "__post_init__"):
        lines.append("self.__post_init__()")
    src = f"def __init__({', '.join(params)}):\n    " + "\n    ".join(lines or ["pass"])
    exec(src, env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _slot_setter(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        if name in klass.__dict__.get("__slots__", ()):
            return klass.__dict__[name].__set__
    raise TypeError(f"{cls.__name__}.{name}: no slot (a record's base must be a record)")


def _no_key(_record: object) -> tuple[()]:
    return ()


def _repr(self: Any) -> str:
    shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._record_shown)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    key = self._record_key
    return key(self) == key(other)


def _hash(self: Any) -> int:
    return hash(self._record_key(self))


def _refuse_set(self: object, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_del(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, n) for n in self._record_fields)


def _setstate(self: Any, state: tuple[Any, ...]) -> None:
    for name, value in zip(self._record_fields, state, strict=True):
        _slot_setter(type(self), name)(self, value)


class _DataclassView:
    """`__dataclass_fields__` and `__dataclass_params__`, made by `dataclasses` on first
    use from a dataclass of the same fields, then kept on the class in place of this."""

    def __init__(self, attr: str) -> None:
        self.attr = attr

    def __get__(self, obj: object, owner: type) -> Any:
        import dataclasses
        import inspect

        specs: dict[str, Field] = owner._record_specs  # type: ignore[attr-defined]
        annotations: dict[str, Any] = {}
        for klass in reversed(owner.__mro__):
            annotations.update(inspect.get_annotations(klass))
        fields = []
        for name, spec in specs.items():
            kw: dict[str, Any] = {"repr": spec.repr, "compare": spec.compare}
            if spec.factory is not _MISSING:
                kw["default_factory"] = spec.factory
            elif spec.default is not _MISSING:
                kw["default"] = spec.default
            fields.append((name, annotations.get(name, "Any"), dataclasses.field(**kw)))
        twin = dataclasses.make_dataclass(owner.__name__, fields,
                                          frozen=owner._record_frozen)  # type: ignore[attr-defined]
        for attr in ("__dataclass_fields__", "__dataclass_params__"):
            type.__setattr__(owner, attr, vars(twin)[attr])
        return getattr(owner, self.attr)
