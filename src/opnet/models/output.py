"""The typed output of the pose network, consumed by losses, evaluation and export."""

from __future__ import annotations

from dataclasses import dataclass, fields

from torch import Tensor


@dataclass
class PoseNetOutput:
    """Predictions for a batch of B crops, all in *patch units* (see opnet.preprocess) and float32.

    - ``quat`` (B, 4): head rotation, x y z w, unit norm, w >= 0; rotates head-local coordinates
      into image coordinates (opnet.geometry).
    - ``quat_raw`` (B, 4): the quaternion before normalisation (for the norm regulariser).
    - ``pos_size`` (B, 3): head centre x, y in [-1, 1] across the crop and head size relative to
      half the crop side (> 0).
    - ``box`` (B, 4): face box x0, y0, x1, y1 in [-1, 1] across the crop (x0 < x1, y0 < y1).
    - ``points`` (B, 68, 3) or None: iBUG landmarks x, y, z (depth, same scale as x and y), with
      the mean depth of the eye corners 36/39/42/45 at 0 like ``pt3d_68`` labels.
    - ``shapeparams`` (B, K) or None: coefficients of the keypoint model's basis.
    - ``rotaxis_scales_tril`` (B, 3, 3) or None: lower-triangular Cholesky factor L (positive
      diagonal) of the covariance L L^T of the rotation error, in radians: the rotation vector
      ``v`` with ``q_true = q * exp(v)``, i.e. ``v = log(q^-1 q_true)`` in the head's own frame.
    - ``pos_size_scales_tril`` (B, 3, 3) or None: Cholesky factor of the covariance of the error of
      ``pos_size`` (patch units).
    - ``points_scales`` (B, 68, 3) and ``box_scales`` (B, 4), or None: standard deviations of
      independent Gaussian errors per landmark coordinate and per box coordinate.
    - ``shapeparams_scales`` (B, K) or None: standard deviations of the shape coefficients.
    """

    quat: Tensor
    quat_raw: Tensor
    pos_size: Tensor
    box: Tensor
    points: Tensor | None = None
    shapeparams: Tensor | None = None
    rotaxis_scales_tril: Tensor | None = None
    pos_size_scales_tril: Tensor | None = None
    points_scales: Tensor | None = None
    box_scales: Tensor | None = None
    shapeparams_scales: Tensor | None = None

    def as_dict(self) -> dict[str, Tensor]:
        """The predictions that are present, by field name."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}

    def __len__(self) -> int:
        return len(self.quat)

    @classmethod
    def from_original(cls, outputs: dict[str, Tensor]) -> PoseNetOutput:
        """The outputs of an original-code network's ``forward()``, keyed by its names
        (:data:`ORIGINAL_OUTPUT_NAMES`; names it does not know are ignored)."""
        return cls(
            **{field: outputs[name] for name, field in ORIGINAL_OUTPUT_NAMES.items() if name in outputs}
        )


ORIGINAL_OUTPUT_NAMES: dict[str, str] = {
    "pose": "quat",
    "unnormalized_quat": "quat_raw",
    "coord": "pos_size",
    "roi": "box",
    "pt3d_68": "points",
    "shapeparam": "shapeparams",
    "pose_scales_tril": "rotaxis_scales_tril",
    "coord_scales": "pos_size_scales_tril",
    "pt3d_68_scales": "points_scales",
    "roi_scales": "box_scales",
    "shapeparam_scales": "shapeparams_scales",
}
"""Output name of the original code (neuralnet-tracker-traincode) -> :class:`PoseNetOutput` field.
The conventions are the same: quaternions xyzw rotating head points into the crop frame, positions
in [-1, 1] of the crop, the rotation Cholesky factor on the rotation vector of q_pred^-1 q_true."""
