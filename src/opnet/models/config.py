"""The network's configuration: a frozen, validated dataclass that travels inside every checkpoint."""

from __future__ import annotations

from dataclasses import dataclass

from opnet.errors import OpNetError
from opnet.models.backbones import backbone_names
from opnet.normalization import InputNorm, input_norm
from opnet.preprocess import INPUT_SIZE

MIN_INPUT_SIZE = 32
MAX_SHAPE_PARAMS = 200

STYLES: tuple[str, ...] = ("opnet", "original-paper", "original-master")
"""Layer layouts (``ModelConfig.style``): OpNet's own, or the original code's ``paper`` / ``master``
branch (networks imported by :mod:`opnet.models.original`; docs/paper-models.md)."""
ORIGINAL_BACKBONES: tuple[str, ...] = ("mobilenetv1", "resnet18")
"""Backbones that have an original-code layout."""


@dataclass(frozen=True)
class ModelConfig:
    """What :func:`opnet.models.create_model` builds.

    backbone: a registered name (``opnet.models.backbone_names()``); width: channel multiplier
    (OpenTrack ships 1.0 and narrower models); blurpool: anti-aliased downsampling;
    input_size: side of the square one-channel input in pixels; landmarks: predict the 68
    landmarks from a keypoint model with ``num_shape_params`` coefficients; uncertainty: predict
    Cholesky factors and scales for the NLL losses and OpenTrack's filter; dropout: probability
    on the pooled features; input_norm: how uint8 crops become the network's input (an
    :class:`opnet.normalization.InputNorm` name: what it is trained with and run with).

    style: the layer layout, one of :data:`STYLES`. ``opnet`` is OpNet's own. ``original-paper``
    and ``original-master`` reproduce the original code's networks exactly (its channel rounding,
    ResNet-18 BlurPool placement, uncertainty heads, landmark posing); pose_offset: the ``master``
    branch's learned pose offsets (``local_pose_offset``), only with ``original-master``.
    """

    backbone: str = "mobilenetv1"
    width: float = 1.0
    blurpool: bool = True
    input_size: int = INPUT_SIZE
    landmarks: bool = True
    uncertainty: bool = True
    num_shape_params: int = 50
    dropout: float = 0.5
    input_norm: str = InputNorm.OPENTRACK.value
    style: str = "opnet"
    pose_offset: bool = False

    def __post_init__(self) -> None:
        if self.backbone not in backbone_names():
            raise OpNetError(
                f"model backbone {self.backbone!r} is unknown; expected one of {', '.join(backbone_names())}"
            )
        if not 0.0 < self.width <= 4.0:
            raise OpNetError(f"model width {self.width} is out of range; expected 0 < width <= 4")
        if not MIN_INPUT_SIZE <= self.input_size:
            raise OpNetError(
                f"model input_size {self.input_size} is too small; expected at least {MIN_INPUT_SIZE}"
            )
        if not 1 <= self.num_shape_params <= MAX_SHAPE_PARAMS:
            raise OpNetError(
                f"model num_shape_params {self.num_shape_params}: expected 1 to {MAX_SHAPE_PARAMS}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise OpNetError(f"model dropout {self.dropout}: expected 0 <= dropout < 1")
        object.__setattr__(self, "input_norm", input_norm(self.input_norm, "model input_norm").value)
        self._check_style()

    def _check_style(self) -> None:
        if self.style not in STYLES:
            raise OpNetError(f"model style {self.style!r} is unknown; expected one of {', '.join(STYLES)}")
        if self.style != "opnet" and self.backbone not in ORIGINAL_BACKBONES:
            raise OpNetError(
                f"model style {self.style!r} needs backbone {' or '.join(ORIGINAL_BACKBONES)}, "
                f"not {self.backbone!r}"
            )
        if self.pose_offset and self.style != "original-master":
            raise OpNetError(f"model pose_offset needs style 'original-master', not {self.style!r}")
