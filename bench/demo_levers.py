"""The demo's levers one at a time: held-out synthetic and real-face error after the same training.

Run: ``OMP_WAIT_POLICY=PASSIVE PYTHONPATH=src python bench/demo_levers.py --outdir /tmp/levers
[--epochs 6] [--train-samples 4000] [--only NAME ...]``

Each variant changes one thing of a base config (``--base``: ``plain``, the demo's recipe on the
plain heads, or ``demo``, the demo's defaults) and trains for exactly ``--epochs`` epochs of
``--samples-per-epoch`` images, so the numbers do not depend on how busy the machine is (only the
wall time does). Each network is evaluated on its own held-out heads (other persons, same
distribution), on one fixed set of "photo-like" held-out heads (mostly frontal poses, every
realism lever and occluder on) and on the real faces of ``--real-faces`` (a test set: evaluated,
never trained on, never used to choose epochs or models within a run). Data files are shared
between variants with the same synthetic heads. One JSON line per variant goes to
OUTDIR/results.jsonl as it finishes; the table is printed at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from opnet.augment import AugmentConfig
from opnet.demo import DemoConfig
from opnet.demo.run import DemoPaths, evaluate_model, generate_data, train_network
from opnet.demo.steps import StepClock
from opnet.models import ModelConfig
from opnet.synth import Realism, SynthConfig, generate_dataset
from opnet.synth.config import OCCLUDER_SHARES
from opnet.train.run import export_final_model

PHOTO_LIKE = SynthConfig(pose="frontal", realism=Realism.all(), occluders=OCCLUDER_SHARES)
PHOTO_LIKE_SEED = 1000
PHOTO_LIKE_SAMPLES = 300
DEFAULT_REAL_FACES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "aflw2kmini.h5"
PLAIN_AUGMENT = AugmentConfig(
    scale_std=0.02, shift_std=0.05, rotation_prob=0.0, rot90_prob=0.0, intensity=False
)
PLAIN_MODEL = ModelConfig(width=0.25, blurpool=False, dropout=0.0)
"""The demo's recipe before the levers: plain heads, flips and a slight crop jitter, MobileNetV1 x0.25."""

Variant = Callable[[DemoConfig], DemoConfig]


def _synth(**changes) -> Variant:
    return lambda c: dataclasses.replace(c, synth=dataclasses.replace(c.synth, **changes))


def _realism(name: str, on: bool = True) -> Variant:
    return lambda c: _synth(realism=dataclasses.replace(c.synth.realism, **{name: on}))(c)


def _occluder(name: str, share: float) -> Variant:
    return lambda c: _synth(occluders=dataclasses.replace(c.synth.occluders, **{name: share}))(c)


def _augment(**changes) -> Variant:
    return lambda c: dataclasses.replace(c, augment=dataclasses.replace(c.augment, **changes))


def _model(**changes) -> Variant:
    return lambda c: dataclasses.replace(c, model=dataclasses.replace(c.model, **changes))


ALL_DATA = _synth(pose="frontal", realism=Realism.all(), occluders=OCCLUDER_SHARES)
VARIANTS: dict[str, Variant] = {
    "base": lambda c: c,
    "all data levers": ALL_DATA,
    "pose: frontal": _synth(pose="frontal"),
    "realism: all": _synth(realism=Realism.all()),
    "occluders: glasses, hats, hands": _synth(occluders=OCCLUDER_SHARES),
    "pose ranges: pitch and roll +-90": _synth(pitch_max_deg=90.0, roll_max_deg=90.0),
    "pose angles: heading, pitch, bank": _synth(pose_angles="hpb"),
    "pose angles: AFLW's": _synth(pose_angles="aflw"),
    "pose angles: heading, pitch, bank; pitch +-90": _synth(pose_angles="hpb", pitch_max_deg=90.0),
    "all data levers + input normalisation div256": lambda c: _model(input_norm="div256")(ALL_DATA(c)),
    "all data levers + intensity augmentation": lambda c: _augment(intensity=True)(ALL_DATA(c)),
    "realism: hair": _realism("hair"),
    "realism: light": _realism("light"),
    "realism: camera": _realism("camera"),
    "realism: expressions": _realism("expressions"),
    "hands (20 % of samples)": _occluder("hands", OCCLUDER_SHARES.hands),
    "glasses (30 % of persons)": _occluder("glasses", OCCLUDER_SHARES.glasses),
    "hats (20 % of persons)": _occluder("hats", OCCLUDER_SHARES.hats),
    "realism: eyes": _realism("eyes"),
    "realism: skin": _realism("skin"),
    "realism: backgrounds": _realism("backgrounds"),
    "realism: body": _realism("body"),
    "intensity augmentation (opnet train's)": _augment(intensity=True),
    "in-plane rotation augmentation (opnet train's)": _augment(rotation_prob=1.0 / 3.0),
    "input normalisation div256 instead of OpenTrack's": _model(input_norm="div256"),
}
WIDE = "network width 0.5 (half the epochs: about the same time)"


def _data(config: DemoConfig, cache: Path, workers: int) -> tuple[Path, float]:
    """The folder holding train.h5 and heldout.h5 for ``config``'s heads (made once), and samples/s."""
    key = repr((config.synth, config.train_samples, config.heldout_samples, config.seed))
    folder = cache / f"data-{hashlib.sha1(key.encode()).hexdigest()[:12]}"
    paths = DemoPaths(folder)
    rate_file = folder / "rate.txt"
    if not rate_file.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        paths.data.mkdir(parents=True)
        start = time.monotonic()
        generate_data(config, paths, StepClock(), workers, progress=False)
        rate = (config.train_samples + config.heldout_samples) / (time.monotonic() - start)
        rate_file.write_text(f"{rate}\n")
    return paths.data, float(rate_file.read_text())


def run_variant(
    name: str, config: DemoConfig, outdir: Path, workers: int, photo_like: Path, real_faces: Path | None
) -> dict:
    data, rate = _data(config, outdir / "cache", workers)
    paths = DemoPaths(outdir / "runs" / re.sub(r"[^A-Za-z0-9.-]+", "_", name))
    paths.outdir.mkdir(parents=True, exist_ok=True)
    if not paths.data.exists():
        paths.data.symlink_to(data)
    start = time.monotonic()
    training, _ = train_network(config, paths, StepClock(), None, dry_run=False, progress=False)
    train_s = time.monotonic() - start
    model = export_final_model(training, paths.train_file, progress=False)
    datasets = [("own", "own held-out", paths.heldout_file), ("photo_like", "photo-like", photo_like)]
    if real_faces is not None:
        datasets.append(("real", "real faces", real_faces))
    results = {e.key: e.result.rows[0].metrics for e in evaluate_model(model, datasets, None, False)}
    real = results.get("real")
    return {
        "variant": name,
        "epochs": config.epochs,
        "samples_per_epoch": config.samples_per_epoch,
        "train_samples": config.train_samples,
        "own_mean_deg": results["own"].mean_deg,
        "own_geodesic_deg": results["own"].geodesic_deg,
        "photo_like_mean_deg": results["photo_like"].mean_deg,
        "photo_like_geodesic_deg": results["photo_like"].geodesic_deg,
        "real_mean_deg": None if real is None else real.mean_deg,
        "real_geodesic_deg": None if real is None else real.geodesic_deg,
        "samples_per_s": rate,
        "train_s": train_s,
        "load_average": os.getloadavg()[0],
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| variant | own held-out Mean° | photo-like Mean° | real faces Mean° | real faces Geodesic° |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        real = "- | -"
        if r["real_mean_deg"] is not None:
            real = f"{r['real_mean_deg']:.2f} | {r['real_geodesic_deg']:.2f}"
        lines.append(
            f"| {r['variant']} | {r['own_mean_deg']:.2f} | {r['photo_like_mean_deg']:.2f} | {real} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outdir", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--samples-per-epoch", type=int, default=DemoConfig.samples_per_epoch)
    parser.add_argument("--train-samples", type=int, default=4000)
    parser.add_argument("--heldout-samples", type=int, default=300)
    parser.add_argument("--real-faces", type=Path, default=DEFAULT_REAL_FACES)
    parser.add_argument("--base", choices=("plain", "demo"), default="plain")
    parser.add_argument("--only", nargs="*", help="variant names (default: all)")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    base = DemoConfig(
        epochs=args.epochs,
        samples_per_epoch=args.samples_per_epoch,
        seed=0,
        train_samples=args.train_samples,
        heldout_samples=args.heldout_samples,
    )
    real_faces = args.real_faces if args.real_faces.is_file() else None
    if args.base == "plain":
        base = dataclasses.replace(base, synth=SynthConfig(), augment=PLAIN_AUGMENT, model=PLAIN_MODEL)
    variants = dict(VARIANTS)
    variants[WIDE] = lambda c: dataclasses.replace(_model(width=0.5)(c), epochs=max(1, args.epochs // 2))
    names = args.only or list(variants)
    args.outdir.mkdir(parents=True, exist_ok=True)
    photo_like = args.outdir / "photo-like.h5"
    if not photo_like.is_file():
        generate_dataset(
            photo_like,
            PHOTO_LIKE_SAMPLES,
            PHOTO_LIKE,
            seed=PHOTO_LIKE_SEED,
            workers=args.workers,
            progress=False,
        )
    rows = []
    for name in names:
        row = run_variant(name, variants[name](base), args.outdir, args.workers, photo_like, real_faces)
        rows.append(row)
        with open(args.outdir / "results.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        print(table([row]).splitlines()[-1], flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
