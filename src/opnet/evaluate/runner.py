"""Runs models over a dataset: images are streamed, cropped in a thread pool, and batched.

Each sample's image is decoded once; its input patches (one per :class:`Variant`, e.g. the
perturbations of the stability test) are cut for every input size the models need. At most two
batches are in flight, so memory stays bounded whatever the dataset size.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from opnet.data import PoseDataset
from opnet.evaluate.protocol import DEFAULT_NORMS, Protocol
from opnet.normalization import InputNorm, normalize_input
from opnet.original_crop import CropBox, crop_box, cut_region, resize_region
from opnet.preprocess import CropFrame, Patch, crop_patch, patch_around
from opnet.progress import ProgressBar
from opnet.runtime import PoseModel, PosePrediction, concatenate, decode_outputs, input_norm_of

NOISE_MARGIN_PX = 2


@dataclass(frozen=True)
class Variant:
    """How an input patch deviates from the protocol's: centre shift (pixels), side scale, pixel noise.

    ``noise_std`` is the standard deviation of Gaussian noise added to the gray levels (0-255) of the
    image before cropping; ``draw`` numbers independent noise draws of the same level.
    """

    shift_px: tuple[float, float] = (0.0, 0.0)
    scale: float = 1.0
    noise_std: float = 0.0
    draw: int = 0

    def patch(self, base: Patch) -> Patch:
        centre = (base.centre[0] + self.shift_px[0], base.centre[1] + self.shift_px[1])
        return Patch(centre, base.side * self.scale)


UNPERTURBED = Variant()


@dataclass(frozen=True)
class Predictions:
    """What :func:`predict_dataset` returns.

    ``per_model[m]`` holds N * K rows, sample-major: row n * K + k is sample ``indices[n]`` under
    ``variants[k]``. ``image_wh`` (N, 2) are the image sizes in pixels.
    """

    indices: NDArray[np.int64]
    variants: tuple[Variant, ...]
    image_wh: NDArray[np.int64]
    per_model: list[PosePrediction]


def _noisy_window(
    image: NDArray[np.uint8], bounds: tuple[int, int, int, int], std: float, rng: np.random.Generator
) -> tuple[NDArray[np.uint8], tuple[int, int]]:
    """The part x0, y0, x1, y1 (clipped to the image) of ``image`` with noise added, and its offset."""
    h, w = image.shape
    x0, y0 = min(max(0, bounds[0]), max(w - 1, 0)), min(max(0, bounds[1]), max(h - 1, 0))
    x1, y1 = max(min(w, bounds[2]), x0 + 1), max(min(h, bounds[3]), y0 + 1)
    window = image[y0:y1, x0:x1].astype(np.float32)
    window += rng.standard_normal(window.shape, dtype=np.float32) * np.float32(std)
    return np.clip(np.rint(window), 0, 255).astype(np.uint8), (x0, y0)


def _cut_opentrack(
    image: NDArray[np.uint8],
    roi: NDArray,
    expansion: float,
    variant: Variant,
    size: int,
    rng: np.random.Generator | None,
) -> tuple[NDArray[np.uint8], CropFrame]:
    """OpenTrack's crop of the variant's patch; noise is added to the image part the patch reads."""
    patch = variant.patch(patch_around(roi, expansion))
    if rng is None or variant.noise_std <= 0:
        return crop_patch(image, patch, size)
    bounds = (
        math.floor(patch.centre[0] - patch.half) - NOISE_MARGIN_PX,
        math.floor(patch.centre[1] - patch.half) - NOISE_MARGIN_PX,
        math.ceil(patch.centre[0] + patch.half) + NOISE_MARGIN_PX,
        math.ceil(patch.centre[1] + patch.half) + NOISE_MARGIN_PX,
    )
    window, (ox, oy) = _noisy_window(image, bounds, variant.noise_std, rng)
    crop, cut = crop_patch(window, Patch((patch.centre[0] - ox, patch.centre[1] - oy), patch.side), size)
    return crop, Patch((cut.centre[0] + ox, cut.centre[1] + oy), cut.side)


def _cut_original(
    image: NDArray[np.uint8],
    roi: NDArray,
    expansion: float,
    variant: Variant,
    size: int,
    rng: np.random.Generator | None,
) -> tuple[NDArray[np.uint8], CropFrame]:
    """The original's crop of the box moved by the variant's shift, its expansion times the variant's
    scale; noise is added to the image part the crop reads."""
    box = np.asarray(roi, dtype=np.float64) + np.tile(variant.shift_px, 2)
    region = crop_box(box, expansion * variant.scale)
    if rng is None or variant.noise_std <= 0:
        return resize_region(cut_region(image, region), size), region
    window, (ox, oy) = _noisy_window(
        image, (region.x0, region.y0, region.x1, region.y1), variant.noise_std, rng
    )
    local = CropBox(region.x0 - ox, region.y0 - oy, region.x1 - ox, region.y1 - oy)
    return resize_region(cut_region(window, local), size), region


_CUTS = {Protocol.OPENTRACK: _cut_opentrack, Protocol.ORIGINAL: _cut_original}


InputKey = tuple[int, InputNorm]
"""(input size, input normalisation): models that share both share their inputs."""


def _prepare(
    ds: PoseDataset,
    index: int,
    roi: NDArray,
    expansion: float,
    keys: Sequence[InputKey],
    variants: Sequence[Variant],
    seed: int,
    protocol: Protocol,
) -> tuple[dict[InputKey, list], list[CropFrame], tuple[int, int]]:
    """Decodes one sample's image and cuts every variant's input for every input size and normalisation."""
    image = ds.read_image(index)
    cut = _CUTS[protocol]
    inputs: dict[InputKey, list] = {key: [] for key in keys}
    frames: list[CropFrame] = []
    for k, variant in enumerate(variants):
        for size in sorted({size for size, _ in keys}):
            # The same noise for every input size: a fresh generator seeded by sample and variant.
            rng = np.random.default_rng([seed, index, k]) if variant.noise_std > 0 else None
            crop, frame = cut(image, roi, expansion, variant, size, rng)
            for key in keys:
                if key[0] == size:
                    inputs[key].append(normalize_input(crop, key[1]))
        frames.append(frame)
    return inputs, frames, (image.shape[1], image.shape[0])


def _chunks(n: int, size: int) -> Iterator[range]:
    for start in range(0, n, size):
        yield range(start, min(n, start + size))


def predict_dataset(
    ds: PoseDataset,
    indices: Sequence[int] | NDArray[np.integer],
    rois: NDArray[np.float64],
    expansion: float,
    models: Sequence[PoseModel],
    variants: Sequence[Variant] = (UNPERTURBED,),
    threads: int | None = None,
    batch_size: int = 64,
    seed: int = 0,
    progress: bool = True,
    desc: str = "evaluating",
    protocol: str = Protocol.OPENTRACK,
    default_norm: InputNorm | None = None,
) -> Predictions:
    """Predictions of every model for samples ``indices`` with face boxes ``rois`` (N, 4).

    Inputs are cut as ``protocol`` cuts them (:mod:`opnet.evaluate.protocol`). Each model gets its
    own input normalisation; ``default_norm`` (default: the protocol's) for models whose file names none.
    """
    protocol = Protocol(protocol)
    threads = max(1, threads or len(os.sched_getaffinity(0)))
    fallback = DEFAULT_NORMS[protocol] if default_norm is None else default_norm
    model_keys = [(m.input_size, input_norm_of(m, fallback)) for m in models]
    keys = sorted(set(model_keys))
    variants = tuple(variants)
    outputs: list[list[PosePrediction]] = [[] for _ in models]
    image_wh: list[tuple[int, int]] = []

    def submit(chunk: range) -> list[Future]:
        return [
            pool.submit(_prepare, ds, int(indices[i]), rois[i], expansion, keys, variants, seed, protocol)
            for i in chunk
        ]

    with (
        ThreadPoolExecutor(threads) as pool,
        ProgressBar(total=len(indices), desc=desc, disable=not progress, unit="img") as bar,
    ):
        chunks = list(_chunks(len(indices), batch_size))
        pending = submit(chunks[0]) if chunks else []
        for k in range(len(chunks)):
            current, pending = pending, (submit(chunks[k + 1]) if k + 1 < len(chunks) else [])
            prepared = [f.result() for f in current]
            patches = [p for _, sample_patches, _ in prepared for p in sample_patches]
            image_wh.extend(wh for _, _, wh in prepared)
            for m, model in enumerate(models):
                x = np.stack([x for inputs, _, _ in prepared for x in inputs[model_keys[m]]])[:, None]
                outputs[m].append(decode_outputs(model.run(x), patches))
            bar.update(len(current))
    return Predictions(
        np.asarray(indices, dtype=np.int64),
        variants,
        np.asarray(image_wh, dtype=np.int64).reshape(-1, 2),
        [concatenate(o) for o in outputs] if chunks else [],
    )
