"""Settings dataclasses to and from plain values (YAML, JSON, checkpoints), checked against their types.

OpNet's settings are frozen dataclasses with a default for every field (``TrainConfig``,
``ModelConfig``, ``LossConfig``, ``AugmentConfig``, ``SynthConfig``, ``DemoConfig``,
``EvaluationSettings``, ...) that check their values in ``__post_init__``. This module is the one
way between them and plain values: :func:`to_plain` gives nested dicts, lists, strings and numbers;
:func:`from_plain` and :func:`replace_from_plain` read them back, taking the names and types from the
dataclass's annotations, so a new field needs no change here. Every refusal is an
:class:`~opnet.errors.OpNetError` naming the source (a file, "command line") and the setting.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Run:
...     epochs: int = 10
...     lr: float = 1e-3
...     decay: tuple[float, ...] = (0.5,)
>>> to_plain(Run())
{'epochs': 10, 'lr': 0.001, 'decay': [0.5]}
>>> from_plain(Run, {"lr": 1, "decay": [0.3, 0.6]}, "run.yaml")
Run(epochs=10, lr=1.0, decay=(0.3, 0.6))
>>> from_plain(Run, {"epochs": "ten"}, "run.yaml")
Traceback (most recent call last):
...
opnet.errors.OpNetError: run.yaml: epochs: 'ten' should be an int
"""

from __future__ import annotations

import dataclasses
import enum
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from opnet.errors import OpNetError

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """Dataclasses -> dicts, tuples -> lists, enums -> their values, paths -> strings, recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    return value


def from_plain(cls: type[T], values: Mapping[str, Any], source: str, prefix: str = "") -> T:
    """A ``cls`` from (partial, nested) plain settings; the missing ones keep their defaults.

    ``source`` names where the values come from, ``prefix`` the settings' place (e.g. ``"model."``),
    both for the messages.
    """
    return replace_from_plain(cls(), values, source, prefix)


def replace_from_plain(config: T, values: Mapping[str, Any], source: str, prefix: str = "") -> T:
    """``config`` with the settings in ``values`` replaced (a nested dict changes only the nested
    settings it names). Unknown names, wrong types and values the dataclass refuses raise OpNetError."""
    if not isinstance(values, Mapping):
        where = prefix.rstrip(".") or "the settings"
        raise OpNetError(f"{source}: {where} should be a mapping of names to values")
    hints = _field_types(type(config))
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise OpNetError(f"{source}: unknown setting(s) {', '.join(prefix + str(u) for u in unknown)}")
    changes = {}
    for name, value in values.items():
        current = getattr(config, name)
        if dataclasses.is_dataclass(current):
            changes[name] = replace_from_plain(current, value, source, f"{prefix}{name}.")
        else:
            changes[name] = _convert(hints[name], value, source, f"{prefix}{name}")
    try:
        return dataclasses.replace(config, **changes)  # type: ignore[type-var]
    except OpNetError as e:
        raise OpNetError(f"{source}: {e}") from None
    except (ValueError, TypeError) as e:
        raise OpNetError(f"{source}: {e}") from None


def _field_types(cls: type) -> dict[str, Any]:
    """Field name -> resolved annotation (only the dataclass's init fields)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _convert(kind: Any, value: Any, source: str, where: str) -> Any:
    """``value`` (plain) as an instance of the annotation ``kind``, else OpNetError."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, source, where)
    if origin is tuple and isinstance(value, (list, tuple)):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, source, f"{where}[{k}]") for k, v in enumerate(value))
        if len(value) == len(args):
            pairs = zip(args, value, strict=True)
            return tuple(_convert(a, v, source, f"{where}[{k}]") for k, (a, v) in enumerate(pairs))
    if origin is dict and isinstance(value, Mapping):
        return {
            _convert(args[0], k, source, where): _convert(args[1], v, source, f"{where}.{k}")
            for k, v in value.items()
        }
    if dataclasses.is_dataclass(kind):
        return from_plain(typing.cast(type, kind), value, source, f"{where}.")
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(value)
        except ValueError:
            choices = ", ".join(str(m.value) for m in kind)
            raise OpNetError(f"{source}: {where}: {value!r} is not one of {choices}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is Path and isinstance(value, str):
        return Path(value)
    if isinstance(kind, type) and type(value) is kind:
        return value
    raise OpNetError(f"{source}: {where}: {value!r} should be {_expected(kind)}")


def _expected(kind: Any) -> str:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is tuple:
        return f"a list of {len(args) if args and args[-1] is not Ellipsis else 'any number of'} values"
    name = getattr(origin or kind, "__name__", str(kind))
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
