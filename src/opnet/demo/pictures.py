"""The predictions grid of the report: faces with the predicted head axes over the true ones.

Each tile shows a face of an evaluated dataset with two sets of head axes from the same point (x red,
y green, face forward blue): the prediction as thick lines, the truth as thin lines edged in white;
then the predicted and true yaw/pitch/roll and the sample's error (mean absolute Euler error, the
table's protocol). The predictions are those of the evaluation itself, so the picture shows what
the table measured.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from opnet.data import PoseDataset, open_dataset
from opnet.evaluate.protocol import dataset_rois
from opnet.evaluate.results import EvaluationResult, Row
from opnet.export.samples import spread_indices
from opnet.geometry import crop_transform, quat_to_euler, transform_points
from opnet.viz.draw import draw_pose_axes, put_text
from opnet.viz.grid import mosaic, render_tile

TILE = 160
WINDOW = 1.6
"""Side of the square shown / max(w, h) of the face box."""
WHITE = ((255, 255, 255),) * 3
FOOTER = "head axes (x red, y green, face forward blue): thick = predicted, thin white-edged = true"


def _angles(quat: NDArray[np.float64]) -> str:
    pitch, yaw, roll = np.rad2deg(quat_to_euler(quat))
    return f"y{yaw:+.0f} p{pitch:+.0f} r{roll:+.0f}"


def prediction_tile(ds: PoseDataset, row: Row, k: int, title: str, size: int = TILE) -> NDArray[np.uint8]:
    """RGB ``size`` x ``size`` tile of the ``k``-th evaluated sample of ``row``."""
    errors = row.samples
    index = int(errors.indices[k])
    box = dataset_rois(ds, row.roi.source)[index]
    centre, side = 0.5 * (box[:2] + box[2:]), WINDOW * float(max(box[2] - box[0], box[3] - box[1], 1.0))
    tile = render_tile({"images": ds.read_image(index, color=True)}, size=size, window=(centre, side))
    affine = crop_transform(centre, side, size)
    head = ds.read_field("coords")[index].astype(np.float64) if ds.has("coords") else None
    origin = transform_points(affine, head[:2] if head is not None else centre)
    length = (head[2] if head is not None else 0.5 * side / WINDOW) * size / side
    draw_pose_axes(tile, errors.pred_quat[k], origin, length, thickness=4)
    draw_pose_axes(tile, errors.true_quat[k], origin, length, thickness=3, colors=WHITE)
    draw_pose_axes(tile, errors.true_quat[k], origin, length, thickness=1)
    lines = [title, f"pred {_angles(errors.pred_quat[k])}", f"true {_angles(errors.true_quat[k])}"]
    for n, line in enumerate(lines):
        put_text(tile, line, (4, 14 + 14 * n))
    put_text(tile, f"error {np.rad2deg(errors.euler_err[k]).mean():.1f} deg", (4, size - 6))
    return tile


def yaw_ordered(row: Row, count: int) -> NDArray[np.int64]:
    """Positions (into ``row.samples``) of ``count`` samples spread evenly over the range of true yaw."""
    yaw = quat_to_euler(row.samples.true_quat)[:, 1]
    order = np.argsort(yaw, kind="stable")
    return order[spread_indices(len(order), count)]


def predictions_grid(
    results: list[tuple[str, EvaluationResult]], count: int, columns: int | None = None
) -> NDArray[np.uint8]:
    """``count`` tiles per (short name, evaluation) of the first model's first ROI choice, samples
    ordered by true yaw; each evaluation starts a new line of ``columns`` (default ``count``) tiles."""
    columns = columns or count
    tiles = []
    for name, result in results:
        row = result.rows[0]
        with open_dataset(result.dataset) as ds:
            band = [
                prediction_tile(ds, row, int(k), f"{name} #{int(row.samples.indices[k])}")
                for k in yaw_ordered(row, count)
            ]
        tiles += band + [np.zeros_like(band[0])] * (-len(band) % columns)
    return mosaic(tiles, columns, footer=FOOTER)
