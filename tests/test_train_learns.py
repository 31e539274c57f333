"""A short CPU run on synthetic heads learns: the validation pose error falls well below its first value."""

from __future__ import annotations

import pytest

from opnet.augment import AugmentConfig
from opnet.models import ModelConfig, load_checkpoint
from opnet.synth.config import SynthConfig
from opnet.synth.generate import generate_dataset
from opnet.train import TrainConfig, train


@pytest.mark.slow
def test_a_short_cpu_run_lowers_the_validation_error(tmp_path):
    data = tmp_path / "synth.h5"
    # 96 px pictures for 64 px crops; the export at the end of a run is tested in test_train_run.
    generate_dataset(data, 320, SynthConfig(image_size=96, samples_per_identity=4), seed=1, progress=False)
    config = TrainConfig(
        ds=str(data),
        epochs=16,
        samples_per_epoch=256,
        batch_size=16,
        lr=3e-3,
        lr_decay_fractions=(0.75,),
        model=ModelConfig(width=0.25, input_size=64, dropout=0.0),
        augment=AugmentConfig(intensity=False, rotation_deg=0.0),
        onnx=False,
    )
    rows = []
    result = train(config, tmp_path / "run", progress=False, on_epoch_end=rows.append)
    curve = [row["val_mean_deg"] for row in result.history]
    assert rows == result.history and len(curve) == 16
    assert result.best["val_mean_deg"] == min(curve)
    assert min(curve) < 30.0 and min(curve) < curve[0] - 5.0, curve
    assert result.history[-1]["train_rot"] < result.history[0]["train_rot"]
    _, extra = load_checkpoint(result.best_checkpoint)
    assert extra["metrics"]["val_mean_deg"] == min(curve) and extra["kind"] == "best"
