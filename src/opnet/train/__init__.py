"""Training: the run (``train(TrainConfig(...), outdir)``) and its data (spec, mix, sampler, loaders).

A whole run (Lightning; see docs/training.md)::

    result = train(TrainConfig(ds="synth.h5", epochs=10, model=ModelConfig(width=0.5)), "runs/a")
    result.best, result.best_checkpoint        # opnet.models.load_model(result.best_checkpoint)

``train`` and ``TrainResult`` are imported on first use (Lightning takes seconds to import).
The input pipeline alone (names are resolved to files by the command line)::

    entries = parse_dataset_spec("repro_300_wlp+lapa_megaface_lp:20000+wflw_lp")
    mix = build_mix([MixSource(e.source, path_of(e.source), e.weight) for e in entries])
    loader = make_train_loader(mix, AugmentConfig(), batch_size=64, seed=0, workers=8)
    for epoch in range(epochs):
        loader.sampler.set_epoch(epoch)
        for batch in loader: ...          # opnet.targets.PoseBatch
"""

from typing import Any

from opnet.train.config import TrainConfig, read_config_file, write_config_file
from opnet.train.data import EVAL_EXPANSION, EvalDataset, MixDataset, augmented_examples, encode_batch
from opnet.train.labels import LabelTable, load_label_table
from opnet.train.loader import as_batch, make_eval_loader, make_train_loader, worker_init
from opnet.train.mixing import (
    AFLW2K3D_VALIDATION_SAMPLES,
    DatasetMix,
    MixMember,
    MixSource,
    aflw2k3d_split,
    build_mix,
)
from opnet.train.sampler import SAMPLES_PER_EPOCH, MixSampler, SampleKey, augment_rng, shard_positions
from opnet.train.spec import DEFAULT_WEIGHTS, SpecEntry, parse_dataset_spec

__all__ = [
    "AFLW2K3D_VALIDATION_SAMPLES",
    "DEFAULT_WEIGHTS",
    "EVAL_EXPANSION",
    "SAMPLES_PER_EPOCH",
    "DatasetMix",
    "EvalDataset",
    "LabelTable",
    "MixDataset",
    "MixMember",
    "MixSampler",
    "MixSource",
    "SampleKey",
    "SpecEntry",
    "TrainConfig",
    "TrainResult",
    "aflw2k3d_split",
    "as_batch",
    "augment_rng",
    "augmented_examples",
    "build_mix",
    "encode_batch",
    "load_label_table",
    "make_eval_loader",
    "make_train_loader",
    "parse_dataset_spec",
    "read_config_file",
    "shard_positions",
    "train",
    "worker_init",
    "write_config_file",
]


def __getattr__(name: str) -> Any:
    """``train`` and ``TrainResult`` load Lightning, so they are imported when first used."""
    if name in ("train", "TrainResult"):
        from opnet.train import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
