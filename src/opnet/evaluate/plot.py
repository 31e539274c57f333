"""``--plot``: per-sample errors against the true yaw, and histograms of the angle errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from opnet.evaluate.results import EvaluationResult
from opnet.fileio import atomic_output
from opnet.geometry import quat_to_euler

MAX_HISTOGRAM_DEG = 30.0


def plot_errors(result: EvaluationResult, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Writes a figure (PNG/PDF/SVG by suffix) for the first ROI choice: one colour per model.

    Left: mean absolute Euler error per sample against the true yaw. Right: histograms of the
    pitch, yaw and roll errors (errors above 30 deg are counted in the last bin).
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    rows = [r for r in result.rows if r.roi == result.roi_choices[0]]
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.2), gridspec_kw={"width_ratios": [1.6, 1, 1, 1]})
    bins = np.linspace(0.0, MAX_HISTOGRAM_DEG, 31)
    for row in rows:
        e = row.samples
        yaw = np.rad2deg(quat_to_euler(e.true_quat)[:, 1])
        err = np.rad2deg(e.euler_err)
        axes[0].scatter(
            yaw, err.mean(axis=1), s=8, alpha=0.6, label=f"{row.model} ({row.metrics.mean_deg:.2f}°)"
        )
        for k, name in enumerate(("pitch", "yaw", "roll")):
            axes[k + 1].hist(
                np.minimum(err[:, k], MAX_HISTOGRAM_DEG), bins=bins, histtype="step", label=row.model
            )
            axes[k + 1].set(title=f"{name} error", xlabel="absolute error [°]", ylabel="samples")
    axes[0].set(
        title=f"{result.dataset.name}, {result.roi_choices[0].label}",
        xlabel="true yaw [°]",
        ylabel="mean |Euler error| [°]",
    )
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    with atomic_output(path, overwrite) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".").lower() or "png", dpi=120)
    plt.close(fig)
    return path
