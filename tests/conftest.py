"""Shared fixtures: tiny datasets made in tmp_path, and the real files in ../shared when present."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from opnet.cli import main
from opnet.models import KeypointModel, ModelConfig, PoseNet, create_model

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # as the opnet command sets them (opnet.cli.main)
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
AFLW_MINI = SHARED / "data" / "aflw2kmini.h5"
POSE_MODEL = SHARED / "models" / "head-pose-0.4-small-int8.onnx"
LOCALIZER_MODEL = SHARED / "models" / "head-localizer.onnx"


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist every worker is one process per core: keep torch to one thread so the
    workers do not oversubscribe the cores (that made some tests 20x slower on 2 cores)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


def needs_shared(path: Path) -> pytest.MarkDecorator:
    """Skips a test when a file of ../shared is absent (a plain clone of the repository)."""
    return pytest.mark.skipif(not path.exists(), reason=f"{path} not present (../shared is not checked out)")


def face_image(rng: np.random.Generator, size: int = 96) -> np.ndarray:
    """A gray image with a bright ellipse and two dark 'eyes': enough structure to encode and draw."""
    img = rng.integers(0, 60, (size, size), dtype=np.uint8)
    c = size // 2
    cv2.ellipse(img, (c, c), (size // 4, size // 3), 0, 0, 360, 200, -1)
    cv2.circle(img, (c - size // 10, c - size // 10), size // 20, 30, -1)
    cv2.circle(img, (c + size // 10, c - size // 10), size // 20, 30, -1)
    return img


def random_sample(rng: np.random.Generator, size: int = 96) -> dict[str, np.ndarray]:
    """One sample with every standard label, consistent enough to draw."""
    from opnet.geometry import euler_to_quat

    pts = rng.uniform(size * 0.25, size * 0.75, (68, 3)).astype(np.float32)
    pts[:, 2] -= pts[[36, 39, 42, 45], 2].mean()
    return {
        "images": face_image(rng, size),
        "rois": np.array([size * 0.25, size * 0.2, size * 0.75, size * 0.8], np.float32),
        "coords": np.array([size / 2, size / 2, size / 3], np.float32),
        "quats": euler_to_quat(rng.uniform(-0.8, 0.8, 3)).astype(np.float32),
        "pt3d_68": pts,
        "shapeparams": rng.normal(size=50).astype(np.float32),
    }


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def small_dataset(tmp_path: Path, rng: np.random.Generator) -> Path:
    """12 samples in 3 sequences (5, 4, 3), JPEG images in the file."""
    from opnet.data import DatasetWriter

    path = tmp_path / "small.h5"
    with DatasetWriter(path) as w:
        for k in range(12):
            if k in (0, 5, 9):
                w.start_sequence()
            w.append(random_sample(rng))
    return path


def run_cli(command: str, args: Iterable[object], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``opnet COMMAND ARGS...`` run in this process: its exit status and what it printed (out, err)."""
    code = main([command, *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(command: str, code: int, err: str, *fragments: str) -> bool:
    """Whether ``opnet COMMAND`` failed as users should see it: status 2, no traceback, and exactly one
    ``opnet COMMAND: error:`` line holding every fragment."""
    lines = [line for line in err.splitlines() if line.startswith(f"opnet {command}: error:")]
    return code == 2 and len(lines) == 1 and "Traceback" not in err and all(f in lines[0] for f in fragments)


NUM_SHAPE_PARAMS = 6
"""Shape coefficients of :func:`small_net`'s keypoint model."""


def small_net(
    seed: int = 0, width: float = 0.25, landmarks: bool = True, uncertainty: bool = True
) -> PoseNet:
    """A small MobileNetV1 in eval mode, with non-trivial batch-norm statistics and landmark head."""
    torch.manual_seed(seed)
    keypoints = KeypointModel(torch.randn(68, 3) * 0.3, torch.randn(NUM_SHAPE_PARAMS, 68, 3) * 0.05)
    config = ModelConfig(
        width=width, num_shape_params=NUM_SHAPE_PARAMS, landmarks=landmarks, uncertainty=uncertainty
    )
    net = create_model(config, keypoints)
    with torch.no_grad():
        net(torch.randn(16, 1, 129, 129) * 0.3)  # running statistics move away from 0 / 1
        if net.landmark_head is not None:
            nn.init.normal_(net.landmark_head.linear.weight, std=0.05)
    return net.eval()


def crops_file(folder: Path) -> Path:
    """Real AFLW2000-3D samples if ../shared is there, else 12 rendered synthetic heads (labelled too)."""
    if AFLW_MINI.is_file():
        return AFLW_MINI
    from opnet.export.samples import synthetic_dataset

    return synthetic_dataset(folder / "synthetic.h5", 12)


@pytest.fixture(scope="session")
def crops_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Labelled faces to export and check networks on (:func:`crops_file`), made once per session."""
    return crops_file(tmp_path_factory.mktemp("crops"))
