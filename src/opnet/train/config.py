"""The training run as one frozen, validated dataclass, read from and written to plain values / YAML.

Precedence (applied by the command line): defaults < ``--config run.yaml`` < the flags given. The
resolved config is written to ``OUTDIR/config.yaml`` and stored in every checkpoint, so a run is
described by its files alone. :func:`replace_from_plain` applies a (partial, nested) dict of
settings to a config, checking names and types.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from opnet.augment import AugmentConfig
from opnet.errors import OpNetError
from opnet.fileio import atomic_output
from opnet.losses import LossConfig
from opnet.models import ModelConfig
from opnet.train.sampler import SAMPLES_PER_EPOCH

ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
PRECISIONS = ("auto", "32-true", "16-mixed", "bf16-mixed")
PLOT_SUFFIXES = (".pdf", ".png")
RESUME_SETTINGS = frozenset({"max_minutes", "accelerator", "devices", "num_nodes", "precision"})
"""Settings a resumed run may change: where and how long it runs, not what it computes."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a training run computes (defaults: the original recipe).

    Data: ``ds`` is the dataset spec (``name[:weight]+...``, see :mod:`opnet.train.spec`); names
    are looked up in ``dataset_files`` (filled by the command line from ``$DATADIR``), anything
    else is a file path. ``val``: validation data (name or path; None: automatic, see
    :mod:`opnet.train.inputs`). ``ds_weighting``: weights scale the losses
    instead of the sampling frequencies. An epoch is ``samples_per_epoch`` samples.

    Optimisation: Adam at ``lr``, linear warm-up over the first ``warmup_fraction`` of the epochs
    (per step), then multiplied by ``lr_decay_factor`` at each of ``lr_decay_fractions`` of the
    epochs; gradients clipped to infinity norm ``grad_clip`` (0: off). ``swa``: average the
    weights of the epochs from ``swa_start_fraction`` of the run on, then re-estimate batch-norm
    statistics on ``swa_bn_samples`` training samples.

    Hardware (Lightning's names): ``accelerator``, ``devices`` (-1: all), ``num_nodes``,
    ``precision`` ("auto": 32-bit on CPU, mixed on GPU). ``max_minutes``: stop after the last
    epoch that fits into this time. ``onnx``: export the final models to ONNX.
    ``model.input_size`` also sets ``augment.out_size``.
    """

    ds: str = ""
    dataset_files: dict[str, str] = field(default_factory=dict)
    val: str | None = None
    ds_weighting: bool = False
    samples_per_epoch: int = SAMPLES_PER_EPOCH
    epochs: int = 200
    batch_size: int = 64
    lr: float = 1e-3
    warmup_fraction: float = 0.05
    lr_decay_fractions: tuple[float, ...] = (0.5,)
    lr_decay_factor: float = 0.1
    grad_clip: float = 0.1
    swa: bool = False
    swa_start_fraction: float = 2.0 / 3.0
    swa_bn_samples: int = 4096
    seed: int = 0
    save_plot: str | None = None
    onnx: bool = True
    max_minutes: float | None = None
    accelerator: str = "auto"
    devices: int = 1
    num_nodes: int = 1
    precision: str = "auto"
    model: ModelConfig = field(default_factory=lambda: ModelConfig(uncertainty=False))
    loss: LossConfig = field(default_factory=LossConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        if self.augment.out_size != self.model.input_size:
            object.__setattr__(
                self, "augment", dataclasses.replace(self.augment, out_size=self.model.input_size)
            )
        for problem in _problems(self):
            raise OpNetError(f"training setting {problem}")

    def to_plain(self) -> dict[str, Any]:
        """Nested dicts of plain values (YAML, JSON, weights-only checkpoints)."""
        return to_plain(self)


def _problems(c: TrainConfig) -> list[str]:
    checks = [
        (c.epochs >= 1, f"epochs={c.epochs}: expected at least 1"),
        (c.batch_size >= 1, f"batch_size={c.batch_size}: expected at least 1"),
        (
            c.samples_per_epoch >= c.batch_size,
            f"samples_per_epoch={c.samples_per_epoch}: expected at least batch_size ({c.batch_size})",
        ),
        (math.isfinite(c.lr) and c.lr > 0, f"lr={c.lr}: expected a positive number"),
        (0 <= c.warmup_fraction <= 1, f"warmup_fraction={c.warmup_fraction}: expected 0 to 1"),
        (all(0 <= f <= 1 for f in c.lr_decay_fractions), "lr_decay_fractions: expected fractions 0 to 1"),
        (0 < c.lr_decay_factor <= 1, f"lr_decay_factor={c.lr_decay_factor}: expected 0 < factor <= 1"),
        (c.grad_clip >= 0, f"grad_clip={c.grad_clip}: expected >= 0 (0: no clipping)"),
        (0 <= c.swa_start_fraction < 1, f"swa_start_fraction={c.swa_start_fraction}: expected 0 <= f < 1"),
        (c.swa_bn_samples >= 0, f"swa_bn_samples={c.swa_bn_samples}: expected >= 0"),
        (c.seed >= 0, f"seed={c.seed}: expected a non-negative integer"),
        (c.max_minutes is None or c.max_minutes > 0, f"max_minutes={c.max_minutes}: expected > 0"),
        (c.accelerator in ACCELERATORS, f"accelerator={c.accelerator!r}: expected one of {ACCELERATORS}"),
        (c.devices >= 1 or c.devices == -1, f"devices={c.devices}: expected >= 1, or -1 for all"),
        (c.num_nodes >= 1, f"num_nodes={c.num_nodes}: expected at least 1"),
        (c.precision in PRECISIONS, f"precision={c.precision!r}: expected one of {PRECISIONS}"),
        (
            c.save_plot is None or Path(c.save_plot).suffix.lower() in PLOT_SUFFIXES,
            f"save_plot={c.save_plot!r}: expected a .pdf or .png file name",
        ),
    ]
    return [message for ok, message in checks if not ok]


def to_plain(value: Any) -> Any:
    """Dataclasses -> dicts, tuples -> lists, enums -> their values, recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    return value


T = TypeVar("T")


def _type_name(kind: Any) -> str:
    return getattr(kind, "__name__", str(kind))


def _convert(kind: Any, value: Any, where: str) -> Any:
    """``value`` (plain, e.g. from YAML) as an instance of the annotation ``kind``, else OpNetError."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, where)
    if origin is tuple and isinstance(value, (list, tuple)):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{where}[{k}]") for k, v in enumerate(value))
        if len(value) == len(args):
            return tuple(
                _convert(a, v, f"{where}[{k}]") for k, (a, v) in enumerate(zip(args, value, strict=True))
            )
    if origin is dict and isinstance(value, dict):
        return {_convert(args[0], k, where): _convert(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(value)
        except ValueError:
            choices = ", ".join(str(m.value) for m in kind)
            raise OpNetError(f"{where}: {value!r} is not one of {choices}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(kind, type) and type(value) is kind:
        return value
    expected = (
        f"a list of {len(args) or 'any number of'} values" if origin is tuple else _type_name(origin or kind)
    )
    raise OpNetError(f"{where}: {value!r} should be {expected}")


def replace_from_plain(config: T, values: dict[str, Any], source: str, prefix: str = "") -> T:
    """``config`` with the settings in ``values`` (nested dicts for nested configs) replaced.

    Unknown names and wrong types raise OpNetError naming ``source`` and the setting.
    """
    if not isinstance(values, dict):
        raise OpNetError(
            f"{source}: {prefix.rstrip('.') or 'the settings'} should be a mapping of names to values"
        )
    hints = typing.get_type_hints(type(config))
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise OpNetError(f"{source}: unknown setting(s) {', '.join(prefix + str(u) for u in unknown)}")
    changes = {}
    for name, value in values.items():
        current = getattr(config, name)
        if dataclasses.is_dataclass(current):
            changes[name] = replace_from_plain(current, value, source, f"{prefix}{name}.")
        else:
            changes[name] = _convert(hints[name], value, f"{source}: {prefix}{name}")
    try:
        return dataclasses.replace(config, **changes)  # type: ignore[type-var]
    except (ValueError, TypeError) as e:
        raise OpNetError(f"{source}: {e}") from None


def config_from_plain(values: dict[str, Any], source: str) -> TrainConfig:
    """A :class:`TrainConfig` from (partial) plain settings; missing ones keep their defaults."""
    return replace_from_plain(TrainConfig(), values, source)


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """The settings of a YAML file (a mapping; may be partial)."""
    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise OpNetError(f"{path}: cannot read ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise OpNetError(f"{path}: not valid YAML ({' '.join(str(e).split())[:200]})") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise OpNetError(f"{path}: expected a mapping of setting names to values")
    return values


def write_config_file(config: TrainConfig, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Writes the resolved config as YAML, atomically."""
    path = Path(path)
    with atomic_output(path, overwrite) as tmp:
        tmp.write_text(yaml.safe_dump(config.to_plain(), sort_keys=False), encoding="utf-8")
    return path


def changed_settings(
    saved: TrainConfig, new: TrainConfig, allowed: frozenset[str] = RESUME_SETTINGS
) -> list[str]:
    """Names of the settings (dotted for nested ones) that differ, except ``allowed`` ones."""

    def flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in values.items():
            if isinstance(v, dict) and k != "dataset_files":
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[prefix + k] = v
        return out

    a, b = flat(saved.to_plain()), flat(new.to_plain())
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k) and k not in allowed)
