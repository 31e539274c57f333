"""New head poses for a source face: yaw bins out to profile, pitch and roll kept where they matter.

Angles are heading, pitch and bank (:func:`opnet.geometry.quat_to_hpb`): the head rolls and pitches
in its own frame, then turns about the image's vertical axis. The sampling follows the original
augmentation (DaWelter/face-3d-rotation-augmentation):

- heading: |yaw| of the source up to 90 deg cut into bins of about ``yaw_step_deg``, one heading
  drawn uniformly in each bin, with the source's sign (a random sign for a source at exactly 0);
- pitch: normal around ``(1 - n) * pitch`` with standard deviation ``1 + 10 (1 - n)`` deg, where
  n = |new heading| / 90 deg: towards profile, pitch turns into an in-plane rotation, which the
  training's in-plane augmentation already covers, so it is pulled to zero;
- bank: normal around ``n * bank`` with standard deviation ``1 + 10 n^0.25`` deg: near frontal,
  bank *is* the in-plane rotation and is pulled to zero; towards profile it becomes a nod, which
  only this augmentation can produce;
- all clipped to +-90 (heading), +-60 (pitch, bank) deg. The source pose is kept as the first pose.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.geometry import canonical_quat, hpb_to_quat, quat_to_hpb

MAX_HEADING_DEG = 90.0
MAX_PITCH_BANK_DEG = 60.0


def heading_samples_deg(
    heading_deg: float, yaw_step_deg: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    """(K,) new headings in degrees: one uniform draw in each bin between |heading| and 90 deg.

    K = max(1, round((90 - |heading|) / yaw_step_deg)); the bins split that range evenly.
    """
    if yaw_step_deg <= 0:
        raise ValueError(f"yaw step must be positive, got {yaw_step_deg}")
    start = min(abs(heading_deg), MAX_HEADING_DEG)
    count = max(1, round((MAX_HEADING_DEG - start) / yaw_step_deg))
    width = (MAX_HEADING_DEG - start) / count
    magnitudes = start + width * (np.arange(count) + rng.uniform(0.0, 1.0, count))
    sign = np.sign(heading_deg) if heading_deg != 0 else rng.choice([-1.0, 1.0])
    return sign * magnitudes


def sample_poses(quat: ArrayLike, yaw_step_deg: float, rng: np.random.Generator) -> NDArray[np.float64]:
    """(K + 1, 4) canonical quaternions: the source pose ``quat`` first, then K new poses."""
    heading, pitch, bank = np.rad2deg(quat_to_hpb(quat))
    headings = heading_samples_deg(heading, yaw_step_deg, rng)
    n = np.abs(headings) / MAX_HEADING_DEG
    pitches = rng.normal((1.0 - n) * pitch, 1.0 + 10.0 * (1.0 - n))
    banks = rng.normal(n * bank, 1.0 + 10.0 * n**0.25)
    limit = np.array([MAX_HEADING_DEG, MAX_PITCH_BANK_DEG, MAX_PITCH_BANK_DEG])
    hpb = np.clip(np.stack([headings, pitches, banks], axis=-1), -limit, limit)
    new = hpb_to_quat(np.deg2rad(hpb))
    return np.concatenate([canonical_quat(np.asarray(quat, np.float64))[None], new])
