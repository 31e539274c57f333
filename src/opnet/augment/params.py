"""Sampling augmentation parameters (kornia style: sample first, then apply; replayable in tests).

Each sample draws a fixed set of random numbers from its own generator (:func:`draw`), so its
augmentation depends only on that generator's seed; turning those numbers into parameters is
vectorised over a batch (:func:`params_from_draws`).
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
    ``angle_rad`` (B,): in-plane rotation (clockwise on screen if positive, opnet.geometry).
    ``flip`` (B,): horizontal flip. ``intensity``: per sample, (operation, value) pairs applied in
    order (:mod:`opnet.augment.intensity`). ``noise_std`` (B,): gray levels, 0 for none;
    ``noise_seed`` (B,) makes the noise replayable.
    """

    scale: NDArray[np.float64]
    shift: NDArray[np.float64]
    angle_rad: NDArray[np.float64]
    flip: NDArray[np.bool_]
    intensity: tuple[tuple[tuple[str, float], ...], ...]
    noise_std: NDArray[np.float64]
    noise_seed: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.scale)

    def __getitem__(self, rows: slice | Sequence[int] | NDArray[np.integer]) -> AugmentParams:
        """The parameters of some rows (a 1-D index array or a slice)."""
        picked = np.arange(len(self))[rows].reshape(-1)
        return AugmentParams(
            self.scale[picked],
            self.shift[picked],
            self.angle_rad[picked],
            self.flip[picked],
            tuple(self.intensity[i] for i in picked),
            self.noise_std[picked],
            self.noise_seed[picked],
        )


def draw(rng: np.random.Generator, config: AugmentConfig) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The random numbers of one sample: (uniforms (U,), normals (3,))."""
    return rng.random(num_uniforms(config)), rng.standard_normal(NUM_NORMALS)


def _signed(apply: NDArray[np.bool_], sign_u: NDArray[np.float64], angle: float) -> NDArray[np.float64]:
    return np.where(apply, np.where(sign_u < 0.5, angle, -angle), 0.0)


def _op_values(u: NDArray[np.float64], config: AugmentConfig) -> NDArray[np.float64]:
    """(B, 6) values of the intensity operations from uniforms (B, 6)."""
    values = np.zeros_like(u)
    for k, name in enumerate(INTENSITY_OPS):
        if name in ("gamma", "contrast", "brightness"):
            low, high = getattr(config, f"{name}_range")
            values[:, k] = low + u[:, k] * (high - low)
        elif name == "posterize":
            low, high = config.posterize_bits
            values[:, k] = low + np.floor(u[:, k] * (high - low + 1))
        elif name == "blur":
            values[:, k] = config.blur_sigma
    return values


def _intensity(u: NDArray[np.float64], config: AugmentConfig) -> tuple[tuple[tuple[str, float], ...], ...]:
    """Per sample: ``intensity_ops_per_sample`` operations in random order, each kept with its probability."""
    probs = np.array([getattr(config, f"{name}_prob") for name in INTENSITY_OPS])
    apply = u[:, _OP_APPLY] < probs
    values = _op_values(u[:, _OP_VALUE], config)
    picked = np.argsort(u[:, _OP_ORDER], axis=1)[:, : config.intensity_ops_per_sample]
    return tuple(
        tuple((INTENSITY_OPS[k], float(values[i, k])) for k in row if apply[i, k])
        for i, row in enumerate(picked.tolist())
    )


def params_from_draws(u: ArrayLike, z: ArrayLike, config: AugmentConfig) -> AugmentParams:
    """Parameters (B rows) from the uniforms (B, U) and normals (B, 3) of :func:`draw`."""
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
    angle += _signed(u[:, _ROT90] < config.rot90_prob, u[:, _ROT90_SIGN], np.pi / 2)
    noise_std = np.zeros(count)
    intensity: tuple[tuple[tuple[str, float], ...], ...] = ((),) * count
    if config.intensity:
        intensity = _intensity(u, config)
        variances = np.array([std**2 for std, _ in config.noise])
        applied = u[:, _NOISE:] < np.array([p for _, p in config.noise])
        noise_std = np.sqrt((applied * variances).sum(axis=1))
    return AugmentParams(
        scale,
        shift,
        angle,
        u[:, _FLIP] < config.flip_prob,
        intensity,
        noise_std,
        np.floor(u[:, _NOISE_SEED] * 2**31).astype(np.int64),
    )


def sample_params(rngs: Sequence[np.random.Generator], config: AugmentConfig) -> AugmentParams:
    """Draws the augmentation of each sample from its own generator (one row per generator)."""
    draws = [draw(rng, config) for rng in rngs]
    return params_from_draws(np.stack([d[0] for d in draws]), np.stack([d[1] for d in draws]), config)
