"""What the camera does to a rendered picture: blur, noise, and with the ``camera`` realism lever the
rest of what real photos show (exposure and low light, colour balance, vignetting, motion blur,
low resolution, gamma, JPEG compression at any quality)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

_INT8_UNIFORM_STD = 73.9  # standard deviation of integers uniform in [-128, 127]


@dataclass(frozen=True)
class Camera:
    """A real camera's effects on top of blur and noise. ``exposure`` multiplies the light (low light
    below 1: dark and, once brightened, noisy); ``white_balance`` (3,) per-channel gains;
    ``vignetting``: the darkening in the corners (0: none); ``motion_px`` and ``motion_angle``: a
    linear motion blur; ``scale`` < 1: the picture was taken at that resolution and enlarged;
    ``gamma``: tone curve exponent; ``jpeg_quality``: compressed once at this quality (None: not)."""

    exposure: float
    white_balance: tuple[float, float, float]
    vignetting: float
    motion_px: float
    motion_angle: float
    scale: float
    gamma: float
    jpeg_quality: int | None


def sample_camera(rng: np.random.Generator) -> Camera:
    """Mostly mild settings, sometimes low light, strong compression, motion or a small sensor."""
    low_light = rng.random() < 0.15
    exposure = float(rng.uniform(0.2, 0.5) if low_light else rng.uniform(0.75, 1.35))
    balance = np.exp(rng.normal(0.0, 0.07, 3))
    return Camera(
        exposure=exposure,
        white_balance=(float(balance[0]), float(balance[1]), float(balance[2])),
        vignetting=float(rng.uniform(0.0, 0.5)) if rng.random() < 0.4 else 0.0,
        motion_px=float(rng.uniform(1.0, 6.0)) if rng.random() < 0.15 else 0.0,
        motion_angle=float(rng.uniform(0.0, np.pi)),
        scale=float(rng.uniform(0.35, 0.8)) if rng.random() < 0.2 else 1.0,
        gamma=float(np.exp(rng.normal(0.0, 0.15))),
        jpeg_quality=int(rng.integers(15, 90)) if rng.random() < 0.5 else None,
    )


def _motion_blur(image: NDArray[np.float32], length: float, angle: float) -> NDArray[np.float32]:
    size = int(np.ceil(length)) | 1
    kernel = np.zeros((size, size), np.float32)
    centre = size // 2
    dx, dy = 0.5 * length * np.cos(angle), 0.5 * length * np.sin(angle)
    cv2.line(
        kernel, (round(centre - dx), round(centre - dy)), (round(centre + dx), round(centre + dy)), 1.0, 1
    )
    return np.asarray(cv2.filter2D(image, -1, kernel / kernel.sum()), dtype=np.float32)


def _vignette(height: int, width: int, strength: float) -> NDArray[np.float32]:
    ys, xs = np.ogrid[-1.0 : 1.0 : height * 1j, -1.0 : 1.0 : width * 1j]
    return np.asarray(1.0 - strength * 0.5 * (xs**2 + ys**2), dtype=np.float32)


def apply_camera(
    image: NDArray[np.float32],
    blur_sigma: float,
    noise_sigma: float,
    camera: Camera | None,
    rng: np.random.Generator,
) -> NDArray[np.uint8]:
    """Float RGB (H, W, 3) in [0, 1] -> the uint8 photo: optics (exposure, colour, vignetting),
    defocus and motion blur, resolution, sensor noise (uniform, standard deviation ``noise_sigma``
    of the full range, more in low light), 8-bit quantisation, tone curve, JPEG."""
    height, width = image.shape[:2]
    if camera is not None:
        gain = camera.exposure * np.asarray(camera.white_balance, np.float32)
        if camera.vignetting > 0.0:
            image = image * (_vignette(height, width, camera.vignetting)[..., None] * gain)
        else:
            image = image * gain
    if blur_sigma > 0.2:
        image = np.asarray(cv2.GaussianBlur(image, (0, 0), blur_sigma), dtype=np.float32)
    if camera is not None and camera.motion_px > 0.0:
        image = _motion_blur(image, camera.motion_px, camera.motion_angle)
    if camera is not None and camera.scale < 1.0:
        small = (max(8, round(width * camera.scale)), max(8, round(height * camera.scale)))
        smaller = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
        image = np.asarray(cv2.resize(smaller, (width, height)), dtype=np.float32)
    if camera is not None and camera.exposure < 0.5:
        noise_sigma += 0.02 * (0.5 - camera.exposure) / 0.35  # gain turned up in the dark
    if noise_sigma > 0.0:
        noise = rng.integers(-128, 128, image.shape, dtype=np.int8).astype(np.float32)
        image = image + noise * (noise_sigma / _INT8_UNIFORM_STD)
    out = np.clip(image * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)
    if camera is not None and camera.gamma != 1.0:
        curve = 255.0 * (np.arange(256) / 255.0) ** camera.gamma
        out = cv2.LUT(out, np.clip(curve + 0.5, 0, 255).astype(np.uint8))
    if camera is not None and camera.jpeg_quality is not None:
        ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, camera.jpeg_quality])
        if ok:
            out = np.asarray(cv2.imdecode(data, cv2.IMREAD_UNCHANGED), dtype=np.uint8)
    return out
