"""Validation numbers of one pass: pose MAE in degrees (AFLW Euler angles, wrap-around), geodesic, losses.

The errors are those of the evaluation protocol (:mod:`opnet.evaluate.metrics`) on the patch
predictions; validation crops are not rotated, so patch and image poses are the same.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from torch import Tensor, nn

from opnet.evaluate.metrics import euler_errors, geodesic_errors, summarize
from opnet.models import PoseNetOutput
from opnet.targets import PoseBatch, PoseTargets

BEST_METRIC = "val_mean_deg"
"""What ``best.ckpt`` minimises (``best_metric="mae"``); ``val_total`` (the loss) where the
validation data has no poses."""
FALLBACK_METRIC = "val_total"
POSE_TERMS = ("rot", "xy", "size", "nll_rot", "nll_pos_size")
"""The loss terms of ``best_metric="pose_loss"`` (the original's: those of the pose outputs)."""


class ValidationAccumulator:
    """Collects per-sample pose errors and batch-size weighted loss terms over validation batches."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._loss_sums: dict[str, float] = {}
        self._samples = 0
        self._euler: list[np.ndarray] = []
        self._geodesic: list[np.ndarray] = []

    def add(self, output: PoseNetOutput, targets: PoseTargets, losses: dict[str, Tensor]) -> None:
        count = len(targets)
        for name, value in losses.items():
            self._loss_sums[name] = self._loss_sums.get(name, 0.0) + float(value) * count
        self._samples += count
        has = targets.has_quat.cpu().numpy()
        if has.any():
            pred = output.quat.detach().float().cpu().numpy()[has]
            true = targets.quat.float().cpu().numpy()[has]
            self._euler.append(euler_errors(pred, true))
            self._geodesic.append(geodesic_errors(pred, true))

    def result(self) -> dict[str, float]:
        """``val_<term>`` means and, where samples have poses, ``val_{pitch,yaw,roll,mean,geodesic}_deg``."""
        out = {f"val_{name}": total / max(1, self._samples) for name, total in self._loss_sums.items()}
        if self._euler:
            m = summarize(np.concatenate(self._euler), np.concatenate(self._geodesic))
            out.update(
                val_pitch_deg=m.pitch_deg,
                val_yaw_deg=m.yaw_deg,
                val_roll_deg=m.roll_deg,
                val_mean_deg=m.mean_deg,
                val_geodesic_deg=m.geodesic_deg,
            )
        return out


def score_of(metrics: dict[str, float], pose_loss_weights: dict[str, float] | None = None) -> float:
    """The number ``best`` minimises: the mean MAE, or the validation loss without poses; with
    ``pose_loss_weights`` (term -> weight) the weighted sum of those ``val_<term>`` (the original's
    choice), terms the metrics lack left out."""
    if pose_loss_weights is not None:
        terms = [w * metrics[f"val_{t}"] for t, w in pose_loss_weights.items() if f"val_{t}" in metrics]
        if terms:
            return float(sum(terms))
    return metrics.get(BEST_METRIC, metrics.get(FALLBACK_METRIC, float("inf")))


def pose_loss_weights(best_metric: str, loss_weights: dict[str, float]) -> dict[str, float] | None:
    """The weights :func:`score_of` uses for ``best_metric`` ("pose_loss": the pose terms of
    ``loss_weights``; "mae": None)."""
    if best_metric != "pose_loss":
        return None
    return {t: loss_weights[t] for t in POSE_TERMS if loss_weights.get(t, 0.0) > 0}


@torch.no_grad()
def evaluate_network(
    net: nn.Module, batches: Iterable[PoseBatch], criterion: nn.Module, device: torch.device
) -> dict[str, float]:
    """Validation numbers of ``net`` (run in eval mode, restored afterwards) on ``batches``."""
    was_training = net.training
    net.eval()
    accumulator = ValidationAccumulator()
    for batch in batches:
        batch = batch.to(device)
        output = net(batch.image)
        accumulator.add(output, batch.targets, criterion(output, batch.targets))
    net.train(was_training)
    return accumulator.result()
