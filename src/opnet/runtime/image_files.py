"""``opnet predict``'s library side: head poses of the faces in image files, as a table, JSON, pictures."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from opnet.data.images import ImageTooLarge, check_image_size
from opnet.errors import OpNetError
from opnet.fileio import atomic_output, check_folder_creatable
from opnet.runtime.annotate import angles_label, draw_face
from opnet.runtime.detection import FACE_SCORE_THRESHOLD, FaceDetector
from opnet.runtime.faces import FacePose, estimate_faces
from opnet.runtime.model import PoseModel

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
JSON_SCHEMA = "opnet-predict/1"
PROGRESS_MIN_IMAGES = 4
"""Batches of at least this many images show a progress bar."""


@dataclass(frozen=True)
class ImageFaces:
    """The faces found in one image file (possibly none) and where its annotated copy went; ``error``:
    why the file could not be read (then there are no faces and no copy)."""

    path: Path
    width: int
    height: int
    faces: list[FacePose] = field(default_factory=list)
    annotated: Path | None = None
    error: str | None = None


@dataclass(frozen=True)
class ImageInput:
    """An image file to read and the name of its annotated copy (relative to the output folder)."""

    path: Path
    name: Path


def image_inputs(paths: Sequence[str | os.PathLike]) -> list[ImageInput]:
    """Files and folders -> image files: a folder gives its images at any depth, sorted, named by
    their path inside it. Raises for a missing path or a file that is not an image by its suffix."""
    out = []
    for given in map(Path, paths):
        if given.is_dir():
            found = [p for p in given.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
            out += [ImageInput(p, p.relative_to(given)) for p in sorted(found)]
        elif given.suffix.lower() not in IMAGE_SUFFIXES:
            raise OpNetError(f"{given}: not an image file (expected {', '.join(IMAGE_SUFFIXES)}) or a folder")
        elif not given.is_file():
            raise OpNetError(f"{given}: no such image file or folder")
        else:
            out.append(ImageInput(given, Path(given.name)))
    return out


def check_image_paths(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """The image files that ``paths`` (files and folders) name; see :func:`image_inputs`."""
    return [i.path for i in image_inputs(paths)]


def read_image_file(path: Path) -> NDArray[np.uint8]:
    """An image file as BGR (H, W, 3) uint8; an error naming the file if it does not decode or
    declares more than :data:`opnet.data.images.MAX_IMAGE_PIXELS`."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise OpNetError(f"{path}: cannot be read ({e.strerror or e})") from None
    try:
        check_image_size(data)
    except ImageTooLarge as e:
        raise OpNetError(f"{path}: {e}") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise OpNetError(f"{path}: cannot be decoded as an image")
    return image


def annotated_paths(inputs: Sequence[ImageInput], folder: Path, overwrite: bool) -> list[Path]:
    """Output names (each input's name inside ``folder``), checked before anything runs."""
    if folder.exists() and not folder.is_dir():
        raise OpNetError(f"{folder}: exists and is not a folder")
    return _checked_targets(inputs, [folder / i.name for i in inputs], overwrite)


def output_paths(
    inputs: Sequence[ImageInput],
    outdir: str | os.PathLike | None = None,
    output: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> list[Path | None]:
    """Where each image's annotated copy goes: ``output`` (one image only), the same names in
    ``outdir``, or nowhere; checked before anything runs."""
    if output is not None and outdir is not None:
        raise OpNetError("-o/--output names one picture and --outdir a folder; give one of them")
    if output is not None:
        if Path(output).suffix.lower() not in IMAGE_SUFFIXES:
            raise OpNetError(f"-o {output}: expected a picture name ending in {', '.join(IMAGE_SUFFIXES)}")
        if len(inputs) != 1:
            raise OpNetError(f"-o {output}: one output picture for {len(inputs)} images; use --outdir DIR")
        check_folder_creatable(Path(output).parent)
        return list(_checked_targets(inputs, [Path(output)], overwrite))
    if outdir is not None:
        check_folder_creatable(Path(outdir))
        return list(annotated_paths(inputs, Path(outdir), overwrite))
    return [None] * len(inputs)


def _checked_targets(inputs: Sequence[ImageInput], targets: list[Path], overwrite: bool) -> list[Path]:
    seen: dict[Path, Path] = {}
    for source, target in zip((i.path for i in inputs), targets, strict=True):
        if target in seen:
            raise OpNetError(f"{source} and {seen[target]} would both be written to {target}; rename one")
        seen[target] = source
        if target.exists() and not overwrite:
            raise OpNetError(f"{target}: already exists; pass --force to overwrite it")
    return targets


def annotate(image: NDArray[np.uint8], faces: Sequence[FacePose]) -> NDArray[np.uint8]:
    """A BGR copy of ``image`` with each face's box, head circle, pose axes and angles, drawn with
    lines and text that grow with the image."""
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    for face in faces:
        draw_face(rgb, face.quat, face.coords, face.detection.box, angles_label(*face.euler_deg))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def write_image(image: NDArray[np.uint8], path: Path, overwrite: bool = False) -> Path:
    """Writes a BGR image, encoded by ``path``'s suffix, atomically."""
    ok, data = cv2.imencode(path.suffix.lower(), image)
    if not ok:
        raise OpNetError(f"{path}: OpenCV cannot encode {path.suffix} images")
    with atomic_output(path, overwrite) as tmp:
        tmp.write_bytes(data.tobytes())
    return path


def _predict_one(
    path: Path,
    target: Path | None,
    model: PoseModel,
    detector: FaceDetector,
    overwrite: bool,
    min_score: float,
) -> ImageFaces:
    try:
        image = read_image_file(path)
    except OpNetError as e:
        message = str(e)
        return ImageFaces(path, 0, 0, error=message.removeprefix(f"{path}: "))
    faces = estimate_faces(model, detector, image, min_score)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_image(annotate(image, faces), target, overwrite)
    return ImageFaces(path, image.shape[1], image.shape[0], faces, target)


def predict_images(
    paths: Sequence[str | os.PathLike],
    model: PoseModel,
    detector: FaceDetector,
    outdir: str | os.PathLike | None = None,
    overwrite: bool = False,
    min_score: float = FACE_SCORE_THRESHOLD,
    output: str | os.PathLike | None = None,
    progress: bool = False,
) -> list[ImageFaces]:
    """Faces and poses in every image (files, and folders searched recursively); annotated copies
    into ``outdir`` (same names, folders created) or, for one image, into the file ``output``.

    A file that cannot be read or decoded gets a result with ``error`` set; the others go on.
    ``progress``: a progress bar for batches of :data:`PROGRESS_MIN_IMAGES` or more.
    """
    inputs = image_inputs(paths)
    targets = output_paths(inputs, outdir, output, overwrite)
    bar = tqdm(
        zip(inputs, targets, strict=True),
        total=len(inputs),
        unit="image",
        desc="predict",
        disable=not progress or len(inputs) < PROGRESS_MIN_IMAGES,
    )
    return [_predict_one(i.path, t, model, detector, overwrite, min_score) for i, t in bar]


def _number(value: float | None, digits: int) -> str:
    """Fixed decimals, '-' for None, no '-0.0'."""
    if value is None:
        return "-"
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def faces_table(results: Sequence[ImageFaces]) -> str:
    """A markdown table: one row per face (or one 'no face found' row per image)."""
    lines = [
        "| image | face | yaw° | pitch° | roll° | x px | y px | size px | rot σ° | pos σ px | score |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        if result.error is not None:
            lines.append(f"| {result.path} | error: {result.error} | - | - | - | - | - | - | - | - | - |")
        elif not result.faces:
            lines.append(f"| {result.path} | no face found | - | - | - | - | - | - | - | - | - |")
        for k, face in enumerate(result.faces):
            yaw, pitch, roll = face.euler_deg
            x, y, size = face.coords
            cells = [_number(v, 1) for v in (yaw, pitch, roll, x, y, size)]
            spreads = (face.rotation_std_deg, face.position_std_px, face.detection.score)
            cells += [_number(v, 2) for v in spreads]
            lines.append(f"| {result.path} | {k} | {' | '.join(cells)} |")
    return "\n".join(lines)


def _face_json(face: FacePose) -> dict[str, Any]:
    yaw, pitch, roll = face.euler_deg
    return {
        "score": face.detection.score,
        "detection_box_px": face.detection.box.tolist(),
        "yaw_deg": yaw,
        "pitch_deg": pitch,
        "roll_deg": roll,
        "quat_xyzw": face.quat.tolist(),
        "centre_px": face.coords[:2].tolist(),
        "size_px": float(face.coords[2]),
        "box_px": face.box.tolist(),
        "rotation_std_deg": face.rotation_std_deg,
        "position_std_px": face.position_std_px,
        "size_std_px": face.size_std_px,
    }


def faces_json(results: Sequence[ImageFaces], model: PoseModel, detector: FaceDetector) -> dict[str, Any]:
    """The ``--json`` document (schema ``opnet-predict/1``, see docs/opentrack.md)."""
    path = getattr(model, "path", None)
    return {
        "schema": JSON_SCHEMA,
        "model": {
            "name": model.name,
            "path": None if path is None else str(path),
            "input_size": model.input_size,
        },
        "detector": detector.name,
        "images": [
            {
                "path": str(r.path),
                "width": r.width,
                "height": r.height,
                "annotated": None if r.annotated is None else str(r.annotated),
                "error": r.error,
                "faces": [_face_json(f) for f in r.faces],
            }
            for r in results
        ],
    }
