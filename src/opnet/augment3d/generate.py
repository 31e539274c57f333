"""``opnet augment3d``: every source face of a dataset becomes a sequence of views out to profile.

Source face k draws all its randomness from ``SeedSequence([seed, k])``, so the output depends
only on the input, the settings and the seed, not on the number of worker processes. Each
sequence starts with the source photo itself (its bytes and labels as stored, fitted labels
where the file has none), followed by one new view per yaw bin.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

from opnet.augment3d.config import AugmentConfig
from opnet.augment3d.fitting import LandmarkFit
from opnet.augment3d.head import HeadMesh, head_mesh
from opnet.augment3d.inputs import MIN_SIZE_PX, FitMode, place_model, resolve_mode, usable
from opnet.augment3d.poses import sample_poses
from opnet.augment3d.scene import ViewSettings, build_scene, render_view
from opnet.augment3d.spotlight import sample_spotlight
from opnet.data import DatasetWriter, PoseDataset, open_dataset
from opnet.data.fields import image_spec
from opnet.data.images import ImageFormat, encode_image, image_format
from opnet.errors import DataError, OpNetError
from opnet.facemodel import FaceModel
from opnet.geometry import roi_from_points
from opnet.parallel import ordered_map
from opnet.progress import ProgressBar

log = logging.getLogger(__name__)

LABEL_FIELDS = ("quats", "coords", "pt3d_68", "rois")
CLOSED_EYES_BETA = (5.0, 1.0)
"""How far closed eyes close: Beta(5, 1), mostly nearly shut (as in the original)."""


@dataclass(frozen=True)
class FaceTask:
    """Augment sample ``index`` of ``path``; ``face_model`` a 3DDFA pickle or None (procedural head)."""

    path: str
    index: int
    seed: int
    mode: FitMode
    config: AugmentConfig
    face_model: str | None
    lossy: bool


@dataclass(frozen=True)
class FaceResult:
    """The rows written for one source face (none if its fit was too poor) and its fit residual."""

    index: int
    residual_pct: float
    rows: list[dict[str, Any]]


@dataclass
class Summary:
    """What :func:`augment_dataset` did: faces read, kept and dropped, views written, fit residuals (%)."""

    faces: int = 0
    kept: int = 0
    dropped: int = 0
    views: int = 0
    residuals: list[float] = field(default_factory=list)

    def lines(self, max_residual_pct: float | None) -> list[str]:
        out = [f"{self.faces} source faces, {self.kept} kept, {self.views} samples written"]
        finite = np.array([r for r in self.residuals if np.isfinite(r)])
        if len(finite):
            p50, p90 = np.percentile(finite, [50, 90])
            out.append(
                f"landmark fit residual (RMS, % of the landmark box): median {p50:.2f}, "
                f"90th percentile {p90:.2f}, max {finite.max():.2f}"
            )
        if self.dropped:
            limit = (
                ""
                if max_residual_pct is None
                else f", or a residual above --max-residual {max_residual_pct:g} %"
            )
            out.append(
                f"{self.dropped} faces dropped (labels not finite, a zero quaternion, an unreadable image, "
                f"head under {MIN_SIZE_PX:g} px{limit})"
            )
        return out


@functools.lru_cache(maxsize=2)
def face_assets(face_model: str | None) -> tuple[FaceModel, HeadMesh]:
    """The face model (a 3DDFA pickle, or the procedural head) and its render mesh, built once per process."""
    if face_model is None:
        from opnet.facemodel.procedural import procedural_face_model

        model = procedural_face_model()
    else:
        from opnet.facemodel.bfm import load_3ddfa

        model = load_3ddfa(face_model)
    return model, head_mesh(model)


@functools.lru_cache(maxsize=2)
def _dataset(path: str) -> PoseDataset:
    return open_dataset(path, color=True)


def _is_gray(image: np.ndarray) -> bool:
    return bool(np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2]))


def _encode(image: np.ndarray, gray: bool, task: FaceTask) -> bytes:
    pixels = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if gray else image
    return encode_image(pixels, lossy=task.lossy, jpeg_quality=task.config.jpeg_quality)


def _source_row(
    ds: PoseDataset, sample: dict, fit: LandmarkFit, model: FaceModel, task: FaceTask, gray: bool
) -> dict[str, Any]:
    """The source photo with its stored labels (fitted ones where the file has none or in ``full`` mode)."""
    encoded = ds.read_image_bytes(task.index)
    wanted = ImageFormat.JPEG if task.lossy else ImageFormat.PNG
    if image_format(encoded) != wanted:
        encoded = _encode(sample[ds.image_field], gray, task)
    keep = task.mode != FitMode.FULL
    points = sample["pt3d_68"] if keep and "pt3d_68" in sample else fit.params.pt3d_68(model)
    row = {
        "images": encoded,
        "quats": sample["quats"] if keep else fit.params.quat,
        "coords": sample["coords"] if keep else fit.params.coords,
        "pt3d_68": points,
        "rois": sample["rois"] if keep and "rois" in sample else roi_from_points(points),
    }
    return row


def _acceptable(fit: LandmarkFit, max_residual_pct: float | None) -> bool:
    """A fit worth rendering: finite, a head of at least MIN_SIZE_PX, residual within the limit."""
    p = fit.params
    finite = all(np.all(np.isfinite(v)) for v in (p.quat, p.coords, p.shape, p.expression))
    if not finite or p.coords[2] < MIN_SIZE_PX:
        return False
    return max_residual_pct is None or not fit.residual_pct > max_residual_pct


def _view_settings(rng: np.random.Generator, config: AugmentConfig, quat: np.ndarray) -> ViewSettings:
    eyes = float(rng.beta(*CLOSED_EYES_BETA)) if rng.random() < config.prob_closed_eyes else 0.0
    spotlight = sample_spotlight(rng, quat) if rng.random() < config.prob_spotlight else None
    return ViewSettings(eyes_closed=eyes, spotlight=spotlight)


def augment_face(task: FaceTask) -> FaceResult:
    """The source photo and its new views as dataset rows (empty if the fit is worse than allowed)."""
    model, mesh = face_assets(task.face_model)
    ds = _dataset(task.path)
    rng = np.random.default_rng(np.random.SeedSequence([task.seed, task.index]))
    try:
        sample = ds[task.index]
    except DataError as e:  # an image that does not decode, or is too large
        log.debug("%s", e)
        return FaceResult(task.index, np.inf, [])
    if not usable(sample, task.mode):
        return FaceResult(task.index, np.inf, [])
    fit = place_model(sample, model, task.mode)
    if not _acceptable(fit, task.config.max_residual_pct):
        return FaceResult(task.index, fit.residual_pct, [])
    assert ds.image_field is not None  # open_dataset requires an image field
    photo = sample[ds.image_field]
    gray = _is_gray(photo)
    scene = build_scene(photo.astype(np.float32) / 255.0, mesh, fit.params)
    rows = [_source_row(ds, sample, fit, model, task, gray)]
    for quat in sample_poses(fit.params.quat, task.config.yaw_step_deg, rng)[1:]:
        image, labels = render_view(scene, quat, _view_settings(rng, task.config, quat))
        rows.append({"images": _encode(image, gray, task), **labels})
    if "shapeparams" in sample:
        for row in rows:
            row["shapeparams"] = sample["shapeparams"]
    return FaceResult(task.index, fit.residual_pct, rows)


def _init_worker() -> None:
    cv2.setNumThreads(1)
    threadpool_limits(1, user_api="blas")


def _results(tasks: list[FaceTask], workers: int) -> Iterator[FaceResult]:
    if workers <= 1:
        with threadpool_limits(1, user_api="blas"):
            yield from map(augment_face, tasks)
        return
    yield from ordered_map(augment_face, tasks, workers, _init_worker, (), batch_size=1)


def _output_lossy(ds: PoseDataset) -> bool:
    """Whether the output stores JPEG (as the input does) or PNG."""
    return not (len(ds) and image_format(ds.read_image_bytes(0)) == ImageFormat.PNG)


def augment_dataset(
    source: str | os.PathLike,
    output: str | os.PathLike,
    config: AugmentConfig | None = None,
    face_model: str | os.PathLike | None = None,
    seed: int = 0,
    workers: int = 1,
    limit: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Summary:
    """Writes ``output``: for each source face of ``source`` (the first ``limit``), a sequence of
    the photo and its rotated views (images, quats, coords, pt3d_68, rois; shapeparams if the input
    has them). ``face_model``: a 3DDFA ``bfm_noneck_v3.pkl``, or None for the procedural head."""
    config = config or AugmentConfig()
    if seed < 0:
        raise OpNetError(f"--seed {seed}: expected a non-negative integer")
    if limit is not None and limit < 1:
        raise OpNetError(f"--limit {limit}: expected at least 1")
    ds = open_dataset(source)
    model_path = None if face_model is None else str(face_model)
    model, _ = face_assets(model_path)
    mode = resolve_mode(ds, model, config.fit)
    count = len(ds) if limit is None else min(limit, len(ds))
    if count == 0:
        raise DataError(ds.path, "has no samples")
    lossy = _output_lossy(ds)
    tasks = [FaceTask(str(source), k, seed, mode, config, model_path, lossy) for k in range(count)]
    summary = Summary(faces=count)
    writer = DatasetWriter(
        output,
        specs={"images": image_spec(lossy=lossy)},
        overwrite=overwrite,
        jpeg_quality=config.jpeg_quality,
    )
    with writer:
        log.info("%s: %d source faces, fit mode '%s'", source, count, mode.value)
        with ProgressBar(total=count, unit="face", desc="augment3d", disable=not progress) as bar:
            for result in _results(tasks, workers):
                summary.residuals.append(result.residual_pct)
                if result.rows:
                    summary.kept += 1
                    summary.views += len(result.rows)
                    writer.start_sequence()
                    for row in result.rows:
                        writer.append(row)
                else:
                    summary.dropped += 1
                bar.update(1)
        if summary.kept == 0:
            raise OpNetError(f"{output}: no face was usable (see --max-residual); nothing written")
    return summary
