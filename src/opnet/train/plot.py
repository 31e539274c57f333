"""The training-curve figure (``--save-plot``): losses, validation pose errors, learning rate, gradients."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from opnet.fileio import atomic_output
from opnet.train.history import Row, columns

COLUMNS = 3
MAE_CURVES = ("pitch", "yaw", "roll", "mean", "geodesic")


def _panels(names: list[str]) -> list[tuple[str, list[tuple[str, str]], bool]]:
    """(title, [(column, label)], log y axis) of each panel, for the columns present."""
    terms = [n[len("train_") :] for n in names if n.startswith("train_") and n != "train_s"]
    panels = [
        (
            f"loss {t}" if t != "total" else "total loss",
            [(f"train_{t}", "train"), (f"val_{t}", "validation")],
            not t.startswith("nll"),
        )
        for t in ["total", *[t for t in terms if t != "total"]]
    ]
    mae = [(f"val_{k}_deg", k) for k in MAE_CURVES if f"val_{k}_deg" in names]
    if mae:
        panels.insert(0, ("validation pose error [deg]", mae, False))
    panels.append(("learning rate", [("lr", "lr")], True))
    if "grad_norm" in names:
        panels.append(("gradient infinity norm (before clipping)", [("grad_norm", "mean")], True))
    return panels


def plot_history(rows: Sequence[Row], path: str | os.PathLike) -> Path:
    """Writes the curves of ``rows`` (:mod:`opnet.train.history`) to ``path`` (.pdf/.png), atomically."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    names = columns(rows)
    panels = _panels(names)
    lines = -(-len(panels) // COLUMNS)
    fig = Figure(figsize=(5.0 * COLUMNS, 3.2 * lines), layout="constrained")
    axes = fig.subplots(lines, COLUMNS, squeeze=False).ravel()
    epochs = [row["epoch"] for row in rows]
    for ax, (title, curves, log_scale) in zip(axes, panels, strict=False):
        for column, label in curves:
            points = [(e, row[column]) for e, row in zip(epochs, rows, strict=True) if column in row]
            if points:
                ax.plot(*zip(*points, strict=True), marker="." if len(points) < 30 else None, label=label)
        positive = all(row.get(c, 1.0) > 0 for row in rows for c, _ in curves)
        ax.set(title=title, xlabel="epoch", yscale="log" if log_scale and positive else "linear")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    path = Path(path)
    with atomic_output(path, overwrite=True) as tmp:
        fig.savefig(tmp, format=path.suffix.lower().lstrip("."), dpi=100)
    return path
