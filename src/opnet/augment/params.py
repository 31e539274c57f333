"""Sampling augmentation parameters (kornia style: sample first, then apply; replayable in tests).

Each sample draws a fixed set of random numbers from its own generator (:func:`draw`), so its
augmentation depends only on that generator's seed; turning those numbers into parameters is
vectorised over a batch (:func:`params_from_draws`). With ``intensity_style="kornia"`` the choice
and order of the intensity operations is the batch's (the original's kornia pipeline picks them
once per call): it comes from one more generator per batch (:func:`draw_batch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.augment.config import AugmentConfig

INTENSITY_OPS = ("equalize", "posterize", "gamma", "contrast", "brightness", "blur")
"""The intensity operations, in the order of their settings in :class:`AugmentConfig`."""

NUM_NORMALS = 3  # scale jitter, shift x, shift y
_ROTATE, _ROTATE_SIGN, _ROT90, _ROT90_SIGN, _FLIP, _NOISE_SEED = range(6)
_N_OPS = len(INTENSITY_OPS)
_OP_ORDER = slice(6, 6 + _N_OPS)
_OP_APPLY = slice(6 + _N_OPS, 6 + 2 * _N_OPS)
_OP_VALUE = slice(6 + 2 * _N_OPS, 6 + 3 * _N_OPS)
_NOISE = 6 + 3 * _N_OPS


def num_uniforms(config: AugmentConfig) -> int:
    """How many uniform numbers one sample draws."""
    return _NOISE + len(config.noise)


@dataclass(frozen=True)
class AugmentParams:
    """The augmentation of B samples, one row per sample.

    ``scale`` (B,): crop side / max(w, h) of the face box. ``shift`` (B, 2): in [-1, 1], the
    fraction of the wiggle room the crop moves by (see :func:`opnet.augment.geometric.crop_windows`).
    ``angle_rad`` (B,): in-plane rotation (clockwise on screen if positive, opnet.geometry) of
    ``--raug``; ``quarter_turns`` (B,): -1, 0 or 1 further quarter turns (clockwise if positive).
    ``flip`` (B,): horizontal flip. ``intensity``: per sample, (operation, value) pairs applied in
    order (:mod:`opnet.augment.intensity`). ``noise_std`` (B,): gray levels, 0 for none;
    ``noise_seed`` (B,) makes the noise replayable.
    """

    scale: NDArray[np.float64]
    shift: NDArray[np.float64]
    angle_rad: NDArray[np.float64]
    quarter_turns: NDArray[np.int64]
    flip: NDArray[np.bool_]
    intensity: tuple[tuple[tuple[str, float], ...], ...]
    noise_std: NDArray[np.float64]
    noise_seed: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.scale)

    @property
    def total_angle_rad(self) -> NDArray[np.float64]:
        """(B,) the whole in-plane rotation: ``angle_rad`` plus the quarter turns."""
        return self.angle_rad + 0.5 * np.pi * self.quarter_turns

    def __getitem__(self, rows: slice | Sequence[int] | NDArray[np.integer]) -> AugmentParams:
        """The parameters of some rows (a 1-D index array or a slice)."""
        picked = np.arange(len(self))[rows].reshape(-1)
        return AugmentParams(
            self.scale[picked],
            self.shift[picked],
            self.angle_rad[picked],
            self.quarter_turns[picked],
            self.flip[picked],
            tuple(self.intensity[i] for i in picked),
            self.noise_std[picked],
            self.noise_seed[picked],
        )


def draw(rng: np.random.Generator, config: AugmentConfig) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The random numbers of one sample: (uniforms (U,), normals (3,))."""
    return rng.random(num_uniforms(config)), rng.standard_normal(NUM_NORMALS)


def draw_batch(rng: np.random.Generator) -> NDArray[np.float64]:
    """The random numbers of one batch: (6,) uniforms ordering the intensity operations."""
    return rng.random(_N_OPS)


def _signed(apply: NDArray[np.bool_], sign_u: NDArray[np.float64], angle: float) -> NDArray[np.float64]:
    return np.where(apply, np.where(sign_u < 0.5, angle, -angle), 0.0)


def _op_values(u: NDArray[np.float64], config: AugmentConfig) -> NDArray[np.float64]:
    """(B, 6) values of the intensity operations from uniforms (B, 6)."""
    values = np.zeros_like(u)
    for k, name in enumerate(INTENSITY_OPS):
        if name in ("gamma", "contrast", "brightness"):
            low, high = getattr(config, f"{name}_range")
            values[:, k] = low + u[:, k] * (high - low)
        elif name == "posterize" and config.intensity_style == "kornia":
            low, high = config.posterize_bits  # kornia: uniform in [low, high), then truncated
            values[:, k] = np.floor(low + u[:, k] * (high - low))
        elif name == "posterize":
            low, high = config.posterize_bits
            values[:, k] = low + np.floor(u[:, k] * (high - low + 1))
        elif name == "blur":
            values[:, k] = config.blur_sigma
    return values


def _intensity(
    u: NDArray[np.float64], config: AugmentConfig, batch_u: NDArray[np.float64] | None
) -> tuple[tuple[tuple[str, float], ...], ...]:
    """Per sample: ``intensity_ops_per_sample`` operations in random order (the sample's own, or the
    batch's from ``batch_u``), each kept with its probability."""
    probs = np.array([getattr(config, f"{name}_prob") for name in INTENSITY_OPS])
    apply = u[:, _OP_APPLY] < probs
    values = _op_values(u[:, _OP_VALUE], config)
    order = u[:, _OP_ORDER] if batch_u is None else np.broadcast_to(batch_u, (len(u), _N_OPS))
    picked = np.argsort(order, axis=1)[:, : config.intensity_ops_per_sample]
    return tuple(
        tuple((INTENSITY_OPS[k], float(values[i, k])) for k in row if apply[i, k])
        for i, row in enumerate(picked.tolist())
    )


def params_from_draws(
    u: ArrayLike, z: ArrayLike, config: AugmentConfig, batch_u: ArrayLike | None = None
) -> AugmentParams:
    """Parameters (B rows) from the uniforms (B, U) and normals (B, 3) of :func:`draw`, and for
    ``intensity_style="kornia"`` the batch's uniforms (6,) of :func:`draw_batch`."""
    u, z = np.atleast_2d(np.asarray(u, np.float64)), np.atleast_2d(np.asarray(z, np.float64))
    count = len(u)
    scale = config.expansion + np.clip(config.scale_std * z[:, 0], -config.scale_clip, config.scale_clip)
    shift = np.clip(config.shift_std * z[:, 1:3], -1.0, 1.0)
    rotate = config.rotation_deg > 0 and config.rotation_prob > 0
    angle = _signed(
        u[:, _ROTATE] < config.rotation_prob if rotate else np.zeros(count, bool),
        u[:, _ROTATE_SIGN],
        np.radians(config.rotation_deg),
    )
    quarter_turns = _signed(u[:, _ROT90] < config.rot90_prob, u[:, _ROT90_SIGN], 1.0).astype(np.int64)
    noise_std = np.zeros(count)
    intensity: tuple[tuple[tuple[str, float], ...], ...] = ((),) * count
    if config.intensity:
        if config.intensity_style == "kornia" and batch_u is None:
            raise ValueError("params_from_draws: intensity_style 'kornia' needs the batch's draws (batch_u)")
        order = None if config.intensity_style == "lut" else np.asarray(batch_u, np.float64)
        intensity = _intensity(u, config, order)
        variances = np.array([std**2 for std, _ in config.noise])
        applied = u[:, _NOISE:] < np.array([p for _, p in config.noise])
        noise_std = np.sqrt((applied * variances).sum(axis=1))
    return AugmentParams(
        scale,
        shift,
        angle,
        quarter_turns,
        u[:, _FLIP] < config.flip_prob,
        intensity,
        noise_std,
        np.floor(u[:, _NOISE_SEED] * 2**31).astype(np.int64),
    )


def sample_params(
    rngs: Sequence[np.random.Generator],
    config: AugmentConfig,
    batch_rng: np.random.Generator | None = None,
) -> AugmentParams:
    """Draws the augmentation of each sample from its own generator (one row per generator); what
    the batch shares (``intensity_style="kornia"``) comes from ``batch_rng``."""
    draws = [draw(rng, config) for rng in rngs]
    batch_u = draw_batch(batch_rng) if batch_rng is not None else None
    return params_from_draws(
        np.stack([d[0] for d in draws]), np.stack([d[1] for d in draws]), config, batch_u
    )


def neutral_params(count: int, config: AugmentConfig) -> AugmentParams:
    """``count`` rows of no augmentation: the crop of ``config.roi_mode``'s expansion, centred, as it is."""
    zeros = np.zeros(count)
    return AugmentParams(
        np.full(count, config.expansion),
        np.zeros((count, 2)),
        zeros,
        np.zeros(count, np.int64),
        np.zeros(count, bool),
        ((),) * count,
        zeros,
        np.zeros(count, np.int64),
    )
