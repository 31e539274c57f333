"""``opnet train --ds SPEC --outdir OUT``: train a pose network (the original's flags; see docs/training.md).

Settings come from the defaults, then the recipe (``--recipe``, default ``paper``: the paper's
pipeline), then ``--config run.yaml``, then the flags given; the defaults shown are the ``paper``
recipe's. Dataset names in ``--ds`` / ``--val`` are looked up in ``$DATADIR``; paths are used as
they are.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any

from opnet.cli.defaults import LazyChoices, defaults_formatter, setting_overrides


def _default_config() -> Any:
    """The settings of a run given no flags: the default recipe's."""
    from opnet.train.recipes import DEFAULT_RECIPE, resolve_config

    return resolve_config(DEFAULT_RECIPE)


def _recipes() -> Any:
    from opnet.train.config import RECIPES

    return RECIPES


def _roi_modes() -> Any:
    from opnet.augment import RoiMode

    return RoiMode


def _backbones() -> Any:
    from opnet.models import backbone_names

    return backbone_names()


def _input_norms() -> Any:
    from opnet.normalization import INPUT_NORMS

    return INPUT_NORMS


def _accelerators() -> Any:
    from opnet.train.config import ACCELERATORS

    return ACCELERATORS


def _precisions() -> Any:
    from opnet.train.config import PRECISIONS

    return PRECISIONS


def _data_flags(p: argparse.ArgumentParser) -> None:
    """Flags: dataset mix and validation."""
    data = p.add_argument_group("data")
    data.add_argument(
        "--ds",
        dest="cfg.ds",
        metavar="SPEC",
        help="training datasets: name[:weight]+name[:weight]+... (names in $DATADIR, or files)",
    )
    data.add_argument(
        "--val",
        dest="cfg.val",
        metavar="DATA",
        help="validation dataset, name or file (default: aflw2k3d's first 400 samples if in --ds, "
        "else whole sequences held out of the first dataset)",
    )
    data.add_argument(
        "--ds-weighting",
        dest="cfg.ds_weighting",
        action="store_const",
        const=True,
        help="draw datasets equally often and scale their losses by the weights instead",
    )
    data.add_argument(
        "--samples-per-epoch",
        dest="cfg.samples_per_epoch",
        type=int,
        metavar="N",
        help="samples per epoch (default %(default)s)",
    )


def _augmentation_flags(p: argparse.ArgumentParser) -> None:
    """Flags: augmentation."""
    aug = p.add_argument_group("augmentation")
    aug.add_argument(
        "--no-imgaug",
        dest="cfg.augment.intensity",
        action="store_const",
        const=False,
        help="no intensity augmentation or noise",
    )
    aug.add_argument(
        "--raug",
        dest="cfg.augment.rotation_deg",
        type=float,
        metavar="DEG",
        help="in-plane rotation augmentation in degrees (default %(default)s; 0: none)",
    )
    aug.add_argument(
        "--roi",
        "--roi-override",
        dest="cfg.augment.roi_mode",
        choices=LazyChoices(_roi_modes),
        metavar="MODE",
        help="face box that frames the crop: %(choices)s (default %(default)s)",
    )


def _model_flags(p: argparse.ArgumentParser) -> None:
    """Flags: network."""
    model = p.add_argument_group("model")
    model.add_argument(
        "--backbone",
        dest="cfg.model.backbone",
        choices=LazyChoices(_backbones),
        metavar="NAME",
        help="network body: %(choices)s (default %(default)s)",
    )
    model.add_argument(
        "--width",
        dest="cfg.model.width",
        type=float,
        metavar="W",
        help="channel width multiplier (default %(default)s)",
    )
    model.add_argument(
        "--input-size",
        dest="cfg.model.input_size",
        type=int,
        metavar="PX",
        help="input side in pixels (default %(default)s, OpenTrack's)",
    )
    model.add_argument(
        "--input-norm",
        dest="cfg.model.input_norm",
        choices=LazyChoices(_input_norms),
        metavar="NAME",
        help="how gray crops become the network's input, in training and wherever the model runs: "
        "%(choices)s (default %(default)s; see docs/model.md)",
    )
    model.add_argument(
        "--no-blurpool",
        dest="cfg.model.blurpool",
        action="store_const",
        const=False,
        help="strided convolutions instead of anti-aliased downsampling",
    )
    model.add_argument(
        "--blurpool",
        dest="cfg.model.blurpool",
        action="store_const",
        const=True,
        help="anti-aliased downsampling (the default)",
    )
    model.add_argument(
        "--no-pointhead",
        dest="cfg.model.landmarks",
        action="store_const",
        const=False,
        help="no landmark head",
    )
    model.add_argument(
        "--with-nll-loss",
        dest="cfg.model.uncertainty",
        action="store_const",
        const=True,
        help="predict uncertainties and train them with the NLL losses",
    )


def _optimisation_flags(p: argparse.ArgumentParser) -> None:
    """Flags: optimisation and run length."""
    opt = p.add_argument_group("optimisation")
    opt.add_argument(
        "--epochs", dest="cfg.epochs", type=int, metavar="N", help="epochs (default %(default)s)"
    )
    opt.add_argument(
        "--lr", dest="cfg.lr", type=float, metavar="LR", help="learning rate (default %(default)s)"
    )
    opt.add_argument(
        "--batch-size",
        "--batchsize",
        dest="cfg.batch_size",
        type=int,
        metavar="B",
        help="batch size per device (default %(default)s)",
    )
    opt.add_argument(
        "--with-swa",
        dest="cfg.swa",
        action="store_const",
        const=True,
        help="stochastic weight averaging over the last third of the epochs (writes swa.ckpt)",
    )
    opt.add_argument(
        "--seed", dest="cfg.seed", type=int, metavar="S", help="random seed (default %(default)s)"
    )
    opt.add_argument(
        "--max-minutes",
        dest="cfg.max_minutes",
        type=float,
        metavar="MIN",
        help="stop after the last epoch that fits into this time",
    )


def _hardware_flags(p: argparse.ArgumentParser) -> None:
    """Flags: devices (Lightning)."""
    hw = p.add_argument_group("hardware (Lightning)")
    hw.add_argument(
        "--accelerator",
        dest="cfg.accelerator",
        choices=LazyChoices(_accelerators),
        metavar="KIND",
        help="device kind: %(choices)s (default %(default)s)",
    )
    hw.add_argument(
        "--devices",
        dest="cfg.devices",
        type=int,
        metavar="N",
        help="devices per machine, data-parallel (default %(default)s; -1: all)",
    )
    hw.add_argument(
        "--num-nodes", dest="cfg.num_nodes", type=int, metavar="M", help="machines (default %(default)s)"
    )
    hw.add_argument(
        "--precision",
        dest="cfg.precision",
        choices=LazyChoices(_precisions),
        metavar="P",
        help="%(choices)s (default %(default)s; auto: 32-bit on CPU, mixed on GPU)",
    )


def _settings(p: argparse.ArgumentParser) -> None:
    for add_flags in (_data_flags, _augmentation_flags, _model_flags, _optimisation_flags, _hardware_flags):
        add_flags(p)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train",
        help="train a pose network",
        description=__doc__,
        argument_default=argparse.SUPPRESS,
        formatter_class=defaults_formatter(_default_config),
    )
    p.add_argument("--outdir", type=Path, metavar="DIR", help="run folder (checkpoints, metrics, config)")
    p.add_argument(
        "--config", type=Path, metavar="YAML", help="settings file (e.g. an earlier run's config.yaml)"
    )
    p.add_argument(
        "--resume",
        nargs="?",
        const="",
        metavar="OUT|CKPT",
        help="continue the run in OUT (default --outdir) from its last completed epoch",
    )
    p.add_argument(
        "--recipe",
        dest="cfg.recipe",
        choices=LazyChoices(_recipes),
        metavar="NAME",
        help="the settings a run starts from: %(choices)s (default %(default)s; paper: the original's "
        "pipeline, as the paper trained; opnet: OpNet's own choices; see docs/training.md)",
    )
    p.add_argument("--force", action="store_true", help="replace a run already in --outdir")
    p.add_argument(
        "--init",
        type=Path,
        metavar="CKPT",
        help="start from the weights of CKPT (an OpNet checkpoint or one of the original code, e.g. the "
        "paper's models), with its architecture; heads it lacks start as usual",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="data loader processes (default: $NUM_WORKERS, else one per core on a GPU; on a CPU none up "
        "to 4 cores, then a quarter of them)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="one epoch of 2 steps (checks the setup; for tests)"
    )
    p.add_argument(
        "--save-plot",
        dest="cfg.save_plot",
        metavar="FILE",
        help="training curves, .pdf or .png (relative names go into --outdir)",
    )
    p.add_argument(
        "--no-onnx",
        dest="cfg.onnx",
        action="store_const",
        const=False,
        help="do not export the final models to ONNX",
    )
    _settings(p)
    return p


def _run_folder(args: argparse.Namespace) -> tuple[Path, bool]:
    from opnet.errors import OpNetError

    outdir = getattr(args, "outdir", None)
    resume = getattr(args, "resume", None)
    if resume:
        given = Path(resume)
        folder = given.parent if given.is_file() else given
        if outdir is not None and outdir.resolve() != folder.resolve():
            raise OpNetError(f"--resume {resume} and --outdir {outdir} name different run folders")
        return folder, True
    if outdir is None:
        raise OpNetError("--outdir is required (the run folder)")
    return outdir, resume is not None


def _dataset_files(config: Any) -> dict[str, str]:
    """Each name or path of --ds / --val -> its absolute file ($DATADIR for names)."""
    from opnet.cli.common import resolve_dataset
    from opnet.train import parse_dataset_spec

    files = dict(config.dataset_files)
    for entry in parse_dataset_spec(config.ds):
        files[entry.source] = str(resolve_dataset(entry.source, "--ds").resolve())
    if config.val is not None:
        files[config.val] = str(resolve_dataset(config.val, "--val").resolve())
    return files


def _paper_validation(config: Any) -> Any:
    """The paper recipe validates on AFLW2000-3D samples 0-399 when ``$DATADIR`` has the file and
    neither ``--val`` nor ``--ds`` says otherwise."""
    import dataclasses

    from opnet.cli.common import resolve_dataset
    from opnet.errors import OpNetError
    from opnet.train import parse_dataset_spec
    from opnet.train.recipes import PAPER_VALIDATION

    in_mix = any(e.source == PAPER_VALIDATION for e in parse_dataset_spec(config.ds))
    if config.recipe != "paper" or config.val is not None or in_mix:
        return config
    try:
        resolve_dataset(PAPER_VALIDATION, "--val")
    except OpNetError as e:
        logging.getLogger(__name__).debug(
            "the paper recipe validates on AFLW2000-3D samples 0-399 (%s); validating on held-out "
            "sequences instead",
            e,
        )
        return config
    return dataclasses.replace(config, val=PAPER_VALIDATION)


def _config(args: argparse.Namespace, outdir: Path, resume: bool) -> Any:
    import dataclasses

    from opnet.errors import OpNetError
    from opnet.settings import replace_from_plain
    from opnet.train.config import RESUME_SETTINGS, read_config_file
    from opnet.train.outputs import saved_config
    from opnet.train.recipes import DEFAULT_RECIPE, check_recipe, resolve_config

    overrides = setting_overrides(args)
    if resume:
        fixed = sorted(set(overrides) - RESUME_SETTINGS)
        if fixed or getattr(args, "config", None):
            raise OpNetError(
                f"--resume keeps the run's settings; remove {', '.join(fixed) or '--config'} "
                "(only --max-minutes and hardware flags may change)"
            )
        return replace_from_plain(saved_config(outdir), overrides, "command line")
    recipe = overrides.pop("recipe", None)
    layers = []
    if getattr(args, "config", None):
        from_file = read_config_file(args.config)
        in_file = from_file.pop("recipe", None)
        layers.append((from_file, str(args.config)))
        if recipe is None and in_file is not None:
            recipe = check_recipe(in_file, f"{args.config}: recipe")
    config = resolve_config(recipe or DEFAULT_RECIPE, *layers, (overrides, "command line"))
    config = _paper_validation(config)
    return dataclasses.replace(config, dataset_files=_dataset_files(config))


def quiet_lightning() -> None:
    """Lightning's start-up notes (devices found, tips) go; its warnings stay."""
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _workers(args: argparse.Namespace, config: Any) -> int:
    """--workers, else $NUM_WORKERS, else the library's suggestion (none for small CPU runs)."""
    from opnet.cli.common import num_workers
    from opnet.train.run import suggested_workers

    if hasattr(args, "workers"):
        return args.workers
    if os.environ.get("NUM_WORKERS"):
        return num_workers()
    return suggested_workers(config, len(os.sched_getaffinity(0)))


def _init(args: argparse.Namespace, config: Any, resume: bool) -> tuple[Any, Any]:
    """(config, InitWeights or None) for --init; the model settings given explicitly are checked."""
    from opnet.errors import OpNetError
    from opnet.train.config import read_config_file
    from opnet.train.init import init_from_checkpoint

    if not hasattr(args, "init"):
        return config, None
    if resume:
        raise OpNetError("--init starts a new run from a checkpoint; --resume continues a run")
    from_file = read_config_file(args.config).get("model", {}) if getattr(args, "config", None) else {}
    explicit = {**from_file, **setting_overrides(args).get("model", {})}
    return init_from_checkpoint(config, args.init, explicit)


def run(args: argparse.Namespace) -> int:
    from opnet.train import train

    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        quiet_lightning()
    outdir, resume = _run_folder(args)
    config, init = _init(args, _config(args, outdir, resume), resume)
    workers = _workers(args, config)
    train(
        config,
        outdir,
        resume=resume,
        overwrite=getattr(args, "force", False),
        workers=workers,
        dry_run=getattr(args, "dry_run", False),
        init=init,
    )
    return 0
