"""The network's configuration: a frozen, validated dataclass that travels inside every checkpoint."""

from __future__ import annotations

from dataclasses import dataclass

from opnet.errors import OpNetError
from opnet.models.backbones import backbone_names
from opnet.normalization import InputNorm, input_norm
from opnet.preprocess import INPUT_SIZE

MIN_INPUT_SIZE = 32
MAX_SHAPE_PARAMS = 200


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
