"""``opnet demo``: generate synthetic heads, train a small network on the CPU, export it for OpenTrack,
evaluate it and write a report, in one command (about 9 minutes on 2 cores by default).

The network is evaluated on held-out synthetic heads and, when present, on the real faces of
../shared/data/aflw2kmini.h5 (--real-faces). Prints the results table at the end; everything
else is in OUTDIR (data/, train/, report/). See docs/demo.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_REAL_FACES = Path("..") / "shared" / "data" / "aflw2kmini.h5"
"""Real faces evaluated by default when the file exists (a checkout next to ../shared)."""
WAIT_POLICY = ("OMP_WAIT_POLICY", "PASSIVE")
"""Set (unless the environment sets it) before torch starts: torch's OpenMP threads then sleep
while they wait instead of spinning. On a machine busy with another process, spinning threads take
the cores from the one doing the work: training steps on 2 cores ran 8x slower (docs/demo.md)."""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "demo",
        help="the whole job on synthetic heads: generate, train, export, evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--minutes",
        type=float,
        default=9.0,
        metavar="M",
        help="time budget of the whole run; training gets what generating the data leaves (default 9)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help="train exactly N epochs instead (the same network on any machine, however long)",
    )
    p.add_argument(
        "--outdir",
        type=Path,
        default=Path("opnet-demo"),
        metavar="DIR",
        help="folder for the data, the training run and the report (default opnet-demo)",
    )
    p.add_argument(
        "--seed", type=int, default=0, metavar="S", help="random seed of data and training (default 0)"
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="W",
        help="processes generating the data (default: $NUM_WORKERS or all cores)",
    )
    p.add_argument(
        "--real-faces",
        type=Path,
        metavar="FILE",
        help=f"labelled real faces to evaluate on too (default {DEFAULT_REAL_FACES} if present)",
    )
    p.add_argument("--no-real-faces", action="store_true", help="evaluate on synthetic heads only")
    p.add_argument("--force", action="store_true", help="replace the demo already in --outdir")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="tiny data and 2 training steps: every step runs in seconds (for tests)",
    )
    return p


def real_faces(args: argparse.Namespace) -> Path | None:
    """--real-faces, else the default file if it exists; None with --no-real-faces."""
    if args.no_real_faces:
        return None
    if args.real_faces is not None:
        return args.real_faces
    return DEFAULT_REAL_FACES if DEFAULT_REAL_FACES.is_file() else None


def run(args: argparse.Namespace) -> int:
    import logging
    import os

    os.environ.setdefault(*WAIT_POLICY)

    from opnet.cli.common import num_workers
    from opnet.cli.train import quiet_lightning
    from opnet.demo import DemoConfig, run_demo
    from opnet.demo.report import summary_text
    from opnet.errors import OpNetError
    from opnet.train import TrainResult  # noqa: F401 - imports Lightning, which sets its log levels on import

    if args.workers is not None and args.workers < 1:
        raise OpNetError(f"--workers {args.workers}: expected at least 1")
    if args.real_faces is not None and args.no_real_faces:
        raise OpNetError("--real-faces and --no-real-faces contradict each other")
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        quiet_lightning()
    config = DemoConfig(minutes=args.minutes, epochs=args.epochs, seed=args.seed)
    result = run_demo(
        config,
        args.outdir,
        real_faces(args),
        overwrite=args.force,
        workers=args.workers or num_workers(),
        dry_run=args.dry_run,
    )
    print(summary_text(result))
    return 0
