"""Squared error of the keypoint model's coefficients against the datasets' ``shapeparams`` labels.

Meaningful only when the network's keypoint model *is* the labels' basis (3DDFA's 40 shape + 10
expression vectors, scaled as ``shapeparams``: :func:`opnet.models.keypoint_model_from_face_model`
of a 3DDFA file), as in the original, whose network carries that basis.
"""

from __future__ import annotations

from torch import Tensor

LABEL_SHAPEPARAMS = 50
"""Coefficients per ``shapeparams`` label (40 shape + 10 expression)."""


def shapeparams_loss(params: Tensor, target: Tensor) -> Tensor:
    """(B, K) predicted and labelled coefficients -> (B,) mean squared error over the K."""
    return (params - target).square().mean(dim=-1)
