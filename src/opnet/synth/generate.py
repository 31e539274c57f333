"""Writing a synthetic dataset: sequences of samples rendered in parallel, reproducible from a seed.

Sample j of sequence k (person k) draws its randomness from ``SeedSequence([seed, k]).spawn``
(child 0: the person, child j + 1: sample j), so the output depends only on the seed and the
settings: not on the number of worker processes, and the first samples of a larger set equal a
smaller set's.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

from opnet.data import DatasetWriter
from opnet.data.images import encode_image
from opnet.errors import OpNetError
from opnet.parallel import ordered_map
from opnet.progress import ProgressBar
from opnet.synth.config import SynthConfig
from opnet.synth.labels import pose_labels
from opnet.synth.person import Person, sample_person, scene_assets
from opnet.synth.scene import Rendering, render_shot, shot_vertices
from opnet.synth.shot import Shot, sample_shot

log = logging.getLogger(__name__)

JPEG_QUALITY = 92


@dataclass(frozen=True)
class SequenceTask:
    """Render samples ``0 .. count - 1`` of sequence ``sequence``."""

    seed: int
    sequence: int
    count: int
    config: SynthConfig


@dataclass(frozen=True)
class SynthSample:
    """One sample with everything that went into it (for tests and tools)."""

    person: Person
    shot: Shot
    rendering: Rendering
    labels: dict[str, np.ndarray]


def render_sequence_samples(task: SequenceTask) -> Iterator[SynthSample]:
    """The samples of one sequence, in order."""
    assets = scene_assets()
    person_seed, *shot_seeds = np.random.SeedSequence([task.seed, task.sequence]).spawn(task.count + 1)
    config = task.config
    person = sample_person(np.random.default_rng(person_seed), assets, config.realism, config.occluders)
    for shot_seed in shot_seeds:
        rng = np.random.default_rng(shot_seed)
        shot = sample_shot(rng, config)
        rendering = render_shot(assets, person, shot, config.image_size, rng)
        landmarks = shot_vertices(person, shot)[assets.model.landmark_indices]
        yield SynthSample(person, shot, rendering, pose_labels(landmarks, shot.quat, shot.coords))


def render_sequence(task: SequenceTask) -> list[dict[str, Any]]:
    """The samples of one sequence as dataset rows: JPEG bytes and labels."""
    return [
        {"images": encode_image(s.rendering.image, lossy=True, jpeg_quality=JPEG_QUALITY), **s.labels}
        for s in render_sequence_samples(task)
    ]


def sequence_tasks(num_samples: int, config: SynthConfig, seed: int) -> list[SequenceTask]:
    """Tasks covering ``num_samples`` samples in sequences of ``config.samples_per_identity`` (the last
    may be shorter)."""
    per = config.samples_per_identity
    return [
        SequenceTask(seed, k, min(per, num_samples - k * per), config) for k in range(-(-num_samples // per))
    ]


def sample_at(index: int, config: SynthConfig, seed: int) -> SynthSample:
    """Sample ``index`` of the dataset that :func:`generate_dataset` writes with these settings."""
    sequence, position = divmod(index, config.samples_per_identity)
    task = SequenceTask(seed, sequence, position + 1, config)
    return list(render_sequence_samples(task))[position]


def _init_worker() -> None:
    # One process per core already. Idle OpenBLAS threads also spin after each small matrix
    # product (projections), which costs a third of the CPU time; keep BLAS on this thread.
    cv2.setNumThreads(1)
    threadpool_limits(1, user_api="blas")


def _rendered(tasks: list[SequenceTask], workers: int) -> Iterator[list[dict[str, Any]]]:
    if workers <= 1:
        with threadpool_limits(1, user_api="blas"):
            yield from map(render_sequence, tasks)
        return
    # Worker processes start from a fork server (forking this process could copy a busy OpenCV or
    # BLAS thread pool and deadlock); each builds the scene assets once (about a second).
    yield from ordered_map(render_sequence, tasks, workers, _init_worker, (), batch_size=2)


def generate_dataset(
    path: str | os.PathLike,
    num_samples: int,
    config: SynthConfig | None = None,
    seed: int = 0,
    workers: int = 1,
    overwrite: bool = False,
    progress: bool = True,
    deadline: float | None = None,
    min_samples: int = 1,
) -> int:
    """Writes ``num_samples`` synthetic samples (images, rois, coords, quats, pt3d_68, pt2d_68) to
    ``path``; returns how many it wrote.

    ``config``: the heads' settings (None: ``SynthConfig()``). One sequence per synthetic person.
    ``workers`` processes render in parallel; the file is the same for any number of them. The
    output is written atomically (opnet.data.DatasetWriter). ``deadline`` (a ``time.monotonic()``
    value): past it, stop after the current person once ``min_samples`` are written (the file is
    then the first persons of the full one).

    >>> generate_dataset("heads.h5", 6, SynthConfig(image_size=64, samples_per_identity=2), progress=False)
    6
    >>> from opnet.data import open_dataset
    >>> ds = open_dataset("heads.h5")
    >>> len(ds), ds.sequence_starts.tolist()  # three persons, two pictures each
    (6, [0, 2, 4, 6])
    """
    if num_samples < 1:
        raise OpNetError(f"-n {num_samples}: expected at least 1 sample")
    if seed < 0:
        raise OpNetError(f"--seed {seed}: expected a non-negative integer")
    tasks = sequence_tasks(num_samples, config or SynthConfig(), seed)
    written = sequences = 0
    with (
        DatasetWriter(path, overwrite=overwrite) as writer,
        ProgressBar(total=num_samples, unit="sample", desc="synth", disable=not progress) as bar,
    ):
        for rows in _rendered(tasks, workers):
            writer.start_sequence()
            for row in rows:
                writer.append(row)
            bar.update(len(rows))
            written, sequences = written + len(rows), sequences + 1
            if deadline is not None and written >= min_samples and time.monotonic() > deadline:
                break
    stopped = "" if written == num_samples else f" (of {num_samples}: the time for generating was up)"
    log.info("wrote %s: %d samples, %d sequences%s", path, written, sequences, stopped)
    return written
