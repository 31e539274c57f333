"""Flags that fill settings take their choices and the defaults their help shows from the settings
dataclasses, so that a setting is edited in one place.

Building the parser must stay fast (``opnet --help`` builds every subcommand's), and the settings
modules import torch, so both are read only when needed: :class:`LazyChoices` on the first
``in`` / iteration (parsing, help, error messages), :func:`defaults_formatter` when help is printed.
A flag fills the setting named by its ``dest`` after :data:`SETTING` (``cfg.model.width``).
"""

from __future__ import annotations

import argparse
import enum
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, overload

SETTING = "cfg."
"""Prefix of the argparse destinations that are settings (the rest is the dotted setting name)."""


class LazyChoices(Sequence[str]):
    """The choices of a flag, computed by ``load()`` on first use (e.g. ``LazyChoices(backbone_names)``).

    Give the flag a ``metavar``: without one argparse spells the choices out when the flag is added.
    """

    def __init__(self, load: Callable[[], Iterable[Any]]):
        self._load = load
        self._values: tuple[str, ...] | None = None

    def _all(self) -> tuple[str, ...]:
        if self._values is None:
            self._values = tuple(v.value if isinstance(v, enum.Enum) else str(v) for v in self._load())
        return self._values

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __contains__(self, value: object) -> bool:
        return value in self._all()


def setting_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings of the flags given, as nested dicts ({"model": {"width": 0.5}, ...})."""
    out: dict[str, Any] = {}
    for dest, value in vars(args).items():
        if dest.startswith(SETTING):
            *parents, name = dest[len(SETTING) :].split(".")
            node = out
            for key in parents:
                node = node.setdefault(key, {})
            node[name] = value
    return out


def setting_value(settings: object, name: str) -> Any:
    """The value of the dotted setting ``name`` (``"model.width"``) in a settings dataclass."""
    for part in name.split("."):
        settings = getattr(settings, part)
    return settings


def shown(value: Any) -> str:
    """A setting's value as help texts show it: 0.001, 30, auto, 0.5 0.75, none."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, (tuple, list)):
        return " ".join(shown(v) for v in value)
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def defaults_formatter(
    defaults: Callable[[], object], base: type[argparse.HelpFormatter] = argparse.HelpFormatter
) -> type[argparse.HelpFormatter]:
    """A help formatter that fills ``%(default)s`` in the help of each setting flag with the setting's
    value in ``defaults()`` (a settings dataclass, made once, when help is printed)."""
    made: list[object] = []

    class SettingDefaults(base):  # type: ignore[misc, valid-type]
        def _get_help_string(self, action: argparse.Action) -> str | None:
            text = super()._get_help_string(action)
            if text is None or not action.dest.startswith(SETTING) or "%(default)s" not in text:
                return text
            if not made:
                made.append(defaults())
            value = shown(setting_value(made[0], action.dest[len(SETTING) :]))
            return text.replace("%(default)s", value.replace("%", "%%"))

    return SettingDefaults
