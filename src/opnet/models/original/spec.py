"""Which network an original checkpoint holds: inferred from a bare ``paper`` state_dict's keys and
shapes, or read (and validated) from a ``master`` checkpoint's config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import Tensor

from opnet.errors import OpNetError
from opnet.models.config import ModelConfig
from opnet.normalization import InputNorm

PAPER_DROPOUT = 0.5
"""Dropout on the pooled features in the paper branch (``dropout_prob`` default)."""
MASTER_DROPOUT = 0.0
"""The master branch builds a dropout layer in its neck but never applies it."""
MOBILENET_STEM = "convnet.conv1.weight"
RESNET_STEM = "convnet.layers.0.weight"
MASTER_CLASS = "NetworkWithPointHead"
MASTER_SETTINGS: dict[str, type | tuple[type, ...]] = {
    "enable_point_head": bool,
    "enable_face_detector": bool,
    "config": str,
    "enable_uncertainty": bool,
    "use_local_pose_offset": bool,
    "backbone_args": (dict, type(None)),
    "enable_6drot": bool,
    "dropout_prob": (float, int, type(None)),
}
"""Settings of the master branch's ``NetworkWithPointHead.get_config()`` (and ``dropout_prob`` of
older files), with their types."""
BACKBONE_ARGS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "mobilenetv1": {"use_blurpool": bool, "widen_factor": (float, int)},
    "resnet18": {"use_blurpool": bool},
}


@dataclass(frozen=True)
class OriginalSpec:
    """An original checkpoint's network: ``branch`` "paper" or "master", the OpNet config that
    reproduces it, and one line per inferred or read setting (for people)."""

    branch: str
    config: ModelConfig
    notes: tuple[str, ...]

    def describe(self) -> str:
        c = self.config
        parts = [
            f"{self.branch}-branch {c.backbone} x{c.width:g}",
            f"BlurPool {'on' if c.blurpool else 'off'}",
        ]
        parts.append("landmarks" if c.landmarks else "no landmarks")
        parts.append("uncertainty" if c.uncertainty else "no uncertainty")
        if c.pose_offset:
            parts.append("pose offset")
        return f"{parts[0]} ({', '.join(parts[1:])})"


def _norm_note(norm: InputNorm) -> str:
    formula = {InputNorm.DIV256_CENTRED: "(u8 + 0.5) / 256 - 0.5", InputNorm.DIV256: "u8 / 256 - 0.5"}[norm]
    return f"input normalisation: {norm.value} ({formula}, what the branch trains with)"


def infer_paper_spec(state: dict[str, Tensor], source: str) -> OriginalSpec:
    """The network of a bare state_dict (``paper`` format), from its keys and shapes.

    A state_dict with ``local_pose_offset`` or ``neck`` keys is a master-branch network saved bare.
    """
    if MOBILENET_STEM in state:
        backbone, stem = "mobilenetv1", state[MOBILENET_STEM]
        width = stem.shape[0] / 32
        blurpool = _blurred(state, backbone)
        blur_key = "convnet.dw2_2.conv_dw"
    elif RESNET_STEM in state:
        backbone, stem, width = "resnet18", state[RESNET_STEM], 1.0
        blurpool = _blurred(state, backbone)
        blur_key = "convnet.layers.4.0.conv1"
    else:
        raise OpNetError(
            f"{source}: not an OpNet pose-network checkpoint, nor a state_dict of the original pose network "
            f"(no '{MOBILENET_STEM}' (MobileNetV1) or '{RESNET_STEM}' (ResNet-18) key)"
        )
    master = "local_pose_offset.p" in state or "quatnet.uncertainty_net.neck.lin.weight" in state
    landmarks = "landmarks.shapenet.weight" in state
    shape_params = int(state["landmarks.shapenet.weight"].shape[0]) if landmarks else 50
    uncertainty = any(k.startswith("quatnet.uncertainty_net.") for k in state)
    norm = InputNorm.DIV256 if master else InputNorm.DIV256_CENTRED
    branch = "master" if master else "paper"
    notes = [
        f"format: bare state_dict ({branch} branch{': it has master-only keys' if master else ''})",
        f"backbone: {backbone}, width {width:g} (stem convolution {tuple(stem.shape)})",
        f"BlurPool: {'on' if blurpool else 'off'} ({blur_key} is {'' if blurpool else 'not '}blurred)",
        f"landmarks: {f'on, {shape_params} shape parameters' if landmarks else 'off'} (landmarks.shapenet)",
        f"uncertainty: {'on' if uncertainty else 'off'} (quatnet.uncertainty_net)",
    ]
    if master:
        notes.append("pose offset: on (local_pose_offset, the master branch's default)")
    notes.append(_norm_note(norm))
    config = _config(
        source,
        backbone=backbone,
        width=width,
        blurpool=blurpool,
        landmarks=landmarks,
        uncertainty=uncertainty,
        num_shape_params=shape_params,
        dropout=MASTER_DROPOUT if master else PAPER_DROPOUT,
        input_norm=norm.value,
        style=f"original-{branch}",
        pose_offset=master,
    )
    return OriginalSpec(branch, config, tuple(notes))


def _blurred(state: dict[str, Tensor], backbone: str) -> bool:
    """Whether the weights have BlurPool layers (their first stride-2 block holds a blur kernel)."""
    key = (
        "convnet.dw2_2.conv_dw.1.weight" if backbone == "mobilenetv1" else "convnet.layers.4.0.conv1.1.weight"
    )
    return key in state


def _config(source: str, **values: Any) -> ModelConfig:
    try:
        return ModelConfig(**values)
    except OpNetError as e:
        raise OpNetError(f"{source}: {e}") from None


def _check_types(values: dict[str, Any], known: dict[str, type | tuple[type, ...]], where: str) -> None:
    for name, value in values.items():
        if name not in known:
            raise OpNetError(
                f"{where} setting '{name}' is not one the original code has ({', '.join(known)})"
            )
        kind = known[name]
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            raise OpNetError(f"{where} setting {name}={value!r} has the wrong type")


def _refuse(source: str, setting: str, value: Any, why: str) -> OpNetError:
    return OpNetError(f"{source}: config {setting}={value!r}: {why}")


def master_spec(content: dict[str, Any], state: dict[str, Tensor], source: str) -> OriginalSpec:
    """The network of a ``master`` checkpoint, from its ``class_name`` and ``config`` (validated)."""
    if content["class_name"] != MASTER_CLASS:
        raise OpNetError(f"{source}: class_name {content['class_name']!r}; OpNet reads {MASTER_CLASS!r}")
    settings = content["config"]
    if not isinstance(settings, dict):
        raise OpNetError(f"{source}: 'config' is a {type(settings).__name__}, expected a dict")
    _check_types(settings, MASTER_SETTINGS, f"{source}: config")
    if settings.get("enable_face_detector", False):
        raise _refuse(source, "enable_face_detector", True, "OpNet has no face-detector head")
    if settings.get("enable_6drot", False):
        raise _refuse(source, "enable_6drot", True, "OpNet has no 6D-rotation head")
    backbone = settings.get("config", "mobilenetv1")
    if backbone not in BACKBONE_ARGS:
        raise _refuse(source, "config", backbone, f"OpNet reads the backbones {', '.join(BACKBONE_ARGS)}")
    args = settings.get("backbone_args") or {}
    _check_types(args, BACKBONE_ARGS[backbone], f"{source}: config backbone_args")
    blurpool = bool(args.get("use_blurpool", _blurred(state, backbone)))
    width = float(args.get("widen_factor", 1.0))
    landmarks = settings.get("enable_point_head", True)
    uncertainty = settings.get("enable_uncertainty", False)
    offset = settings.get("use_local_pose_offset", True)
    shapenet = state.get("landmarks.shapenet.weight")
    shape_params = int(shapenet.shape[0]) if landmarks and isinstance(shapenet, Tensor) else 50
    notes = (
        f"format: master branch checkpoint ({MASTER_CLASS}, config {settings})",
        f"backbone: {backbone}, width {width:g}, BlurPool {'on' if blurpool else 'off'}"
        + ("" if "use_blurpool" in args else " (not in backbone_args: read from the weights)"),
        f"landmarks: {f'on, {shape_params} shape parameters' if landmarks else 'off'}",
        f"uncertainty: {'on' if uncertainty else 'off'}; pose offset: {'on' if offset else 'off'}",
        _norm_note(InputNorm.DIV256),
    )
    config = _config(
        source,
        backbone=backbone,
        width=width,
        blurpool=blurpool,
        landmarks=landmarks,
        uncertainty=uncertainty,
        num_shape_params=shape_params,
        dropout=MASTER_DROPOUT,
        input_norm=InputNorm.DIV256.value,
        style="original-master",
        pose_offset=offset,
    )
    return OriginalSpec("master", config, notes)
