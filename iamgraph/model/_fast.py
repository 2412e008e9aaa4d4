"""Fast construction of frozen, slotted dataclasses on hot paths (parsing, request building).

The ``__init__`` that ``@dataclass(frozen=True)`` generates stores every field through
``object.__setattr__``, because the class's own ``__setattr__`` raises: building a ``Statement`` cost
about 22,000 machine instructions, five times a plain slot store, and the parser builds three such
objects per policy statement.

Both helpers rely on one CPython rule: ``obj.__class__ = cls`` is allowed exactly when the two classes
have the same layout. A *twin* of ``cls`` -- the same ``__slots__``, no ``__setattr__`` -- is filled with
plain attribute stores and then becomes an ordinary instance of ``cls``: equal, hashable, frozen and
picklable like one built by ``cls(...)``.

* ``fast_constructor(cls)``: a function with the signature of ``cls(...)`` (defaults and default factories
  included) doing exactly that; ~5x cheaper than the generated ``__init__``.
* ``fast_pickle(cls)``: a class decorator giving ``cls`` a ``__reduce__`` that unpickles through its twin;
  the ``__setstate__`` of slotted dataclasses looks the fields up again for every object and stores each
  through ``object.__setattr__``, which made loading a cached graph of millions of edges take minutes.
* ``copier(cls, name)``: a function making copies of one instance that differ in the field ``name`` only
  (an admin's hundreds of control edges differ in their target), each filled from locals.
* ``slots_twin(cls)``: the twin class itself, for the few places (one object per parsed statement) where
  even that function call counts; the caller sets *every* field and then ``__class__`` (the parser's
  tests compare its objects with ones built by ``cls(...)``).

Classes this does not fit (not frozen, no slots, a ``__post_init__``, ``init=False`` fields, a base class
other than ``object``) get ``cls`` itself back from ``fast_constructor``; ``slots_twin`` refuses them.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

__all__ = ["copier", "fast_constructor", "fast_pickle", "restorer", "slots_twin"]

P = ParamSpec("P")
T = TypeVar("T")


def slots_twin(cls: type) -> Any:
    """A class with exactly the slots of the frozen slotted dataclass ``cls`` and no ``__setattr__``
    (typed ``Any``: its instances are filled field by field before they become ``cls`` instances)."""
    if not _fits(cls):
        raise TypeError(f"{cls.__name__} is not a frozen, slotted dataclass without __post_init__")
    return type(f"_{cls.__name__}Slots", (), {"__slots__": cls.__dict__["__slots__"]})


def fast_constructor(cls: Callable[P, T]) -> Callable[P, T]:
    """A constructor for the frozen slotted dataclass ``cls`` that skips the per-field ``object.__setattr__``."""
    if not _fits(cls):
        return cls
    assert isinstance(cls, type)
    env: dict[str, Any] = {"_twin": slots_twin(cls), "_cls": cls, "_MISSING": dataclasses.MISSING}
    params: list[str] = []
    kw_params: list[str] = []
    body: list[str] = []
    for f in dataclasses.fields(cls):
        target = kw_params if f.kw_only else params
        if f.default is not dataclasses.MISSING:
            env[f"_d_{f.name}"] = f.default
            target.append(f"{f.name}=_d_{f.name}")
            body.append(f"    o.{f.name} = {f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            env[f"_f_{f.name}"] = f.default_factory
            target.append(f"{f.name}=_MISSING")
            body.append(f"    o.{f.name} = _f_{f.name}() if {f.name} is _MISSING else {f.name}")
        else:
            target.append(f.name)
            body.append(f"    o.{f.name} = {f.name}")
    signature = ", ".join([*params, *(["*", *kw_params] if kw_params else [])])
    source = "\n".join([f"def build({signature}):", "    o = _twin()", *body, "    o.__class__ = _cls", "    return o"])
    exec(source, env)  # the same technique dataclasses uses to generate __init__
    build: Callable[P, T] = env["build"]
    build.__qualname__ = build.__name__ = f"fast_{cls.__name__}"
    build.__doc__ = f"Build a {cls.__name__} (same signature and result as {cls.__name__}(...), faster)."
    return build


def copier(cls: type[T], name: str) -> Callable[[T, Iterable[Any]], list[T]]:
    """``copies(obj, values)``: one copy of ``obj`` (an instance of the frozen slotted dataclass ``cls``) per
    value, with that value as its field ``name``; built as ``fast_constructor`` builds (the other fields
    read from ``obj`` once). For a class this does not fit, ``dataclasses.replace`` per value."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    if name not in names:
        raise TypeError(f"{cls.__name__} has no field {name}")
    if not _fits(cls):
        return lambda obj, values: [dataclasses.replace(obj, **{name: v}) for v in values]  # type: ignore[type-var]
    others = [n for n in names if n != name]
    env: dict[str, Any] = {"_twin": slots_twin(cls), "_cls": cls}
    source = "\n".join(
        [
            "def copies(obj, values):",
            *(f"    _{n} = obj.{n}" for n in others),
            "    out = []",
            "    for value in values:",
            "        o = _twin()",
            *(f"        o.{n} = value" if n == name else f"        o.{n} = _{n}" for n in names),
            "        o.__class__ = _cls",
            "        out.append(o)",
            "    return out",
        ]
    )
    exec(source, env)  # as fast_constructor
    copies: Callable[[T, Iterable[Any]], list[T]] = env["copies"]
    copies.__qualname__ = copies.__name__ = f"copies_of_{cls.__name__}_by_{name}"
    return copies


_PICKLED: dict[type, Callable[[tuple[Any, ...]], Any]] = {}


def fast_pickle(cls: type[T]) -> type[T]:
    """Class decorator: pickle ``cls`` as its field values, restored by :func:`_restore` (no-op when
    ``cls`` does not fit, see ``fast_constructor``)."""
    if not _fits(cls):
        return cls
    names = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    _PICKLED[cls] = _restorer(cls, names)
    values = operator.attrgetter(*names) if len(names) > 1 else (lambda o: (getattr(o, names[0]),))

    def __reduce__(self: T) -> tuple[Callable[[type, tuple[Any, ...]], Any], tuple[type, tuple[Any, ...]]]:
        return _restore, (type(self), values(self))

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


def restorer(cls: type[T]) -> Callable[[tuple[Any, ...]], T]:
    """``values`` (every field, in field order) -> an instance of the dataclass ``cls`` (its ``fast_pickle``
    restorer when it has one)."""
    found = _PICKLED.get(cls)
    if found is not None:
        return found
    names = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    return lambda values: cls(**dict(zip(names, values, strict=True)))


def _restore(cls: type, values: tuple[Any, ...]) -> Any:
    """Unpickle an instance of a ``fast_pickle`` class from its field values (in field order)."""
    return _PICKLED[cls](values)


def _restorer(cls: type, names: tuple[str, ...]) -> Callable[[tuple[Any, ...]], Any]:
    """``values`` -> an instance of ``cls``: the twin filled by one unpacking assignment (a loop of
    ``setattr`` over the names cost about 1 us more per edge of a cached graph or a build's hand-over)."""
    env: dict[str, Any] = {"_twin": slots_twin(cls), "_cls": cls}
    targets = "".join(f"o.{name}, " for name in names)
    source = f"def restore(values):\n    o = _twin()\n    {targets}= values\n    o.__class__ = _cls\n    return o"
    exec(source, env)  # as fast_constructor
    restore: Callable[[tuple[Any, ...]], Any] = env["restore"]
    restore.__qualname__ = restore.__name__ = f"restore_{cls.__name__}"
    return restore


def _fits(cls: object) -> bool:
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        return False
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    fields = dataclasses.fields(cls)
    slots = cls.__dict__.get("__slots__")
    return (
        params.frozen
        and params.init
        and cls.__bases__ == (object,)
        and not hasattr(cls, "__post_init__")
        and slots is not None
        and set(slots) == {f.name for f in fields}
        and all(f.init for f in fields)
        and len(fields) == len(cls.__dataclass_fields__)  # no InitVar or ClassVar pseudo-fields
    )
