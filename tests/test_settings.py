"""opnet.settings: every settings dataclass to plain values and back, with named refusals."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from opnet.augment import AugmentConfig
from opnet.augment3d.config import AugmentConfig as Augment3dConfig
from opnet.demo import DemoConfig
from opnet.errors import OpNetError
from opnet.evaluate import EvaluationSettings, StabilitySettings
from opnet.losses import LossConfig
from opnet.models import ModelConfig
from opnet.settings import from_plain, replace_from_plain, to_plain
from opnet.synth import SynthConfig
from opnet.train import TrainConfig

SETTINGS = [
    TrainConfig(ds="a+b:2", lr_decay_fractions=(0.5, 0.8), dataset_files={"a": "/d/a.h5"}),
    ModelConfig(width=0.5, input_norm="div256"),
    LossConfig(points_metric="l1"),
    AugmentConfig(roi_mode="landmarks", noise=((2.0, 0.5),)),
    Augment3dConfig(max_residual_pct=None),
    SynthConfig(image_size=64),
    DemoConfig(epochs=3),
    EvaluationSettings(alignment="opal23", stability=StabilitySettings(noise_draws=2)),
]


@pytest.mark.parametrize("config", SETTINGS, ids=lambda c: type(c).__name__)
def test_every_settings_class_goes_through_json_and_back_unchanged(config):
    plain = json.loads(json.dumps(to_plain(config)))
    assert from_plain(type(config), plain, "test") == config


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Inner:
    steps: tuple[int, int] = (1, 2)


@dataclass(frozen=True)
class Outer:
    """A class the validator has never seen: its fields alone say what it accepts."""

    name: str = "x"
    colour: Colour = Colour.RED
    folder: Path = Path("runs")
    inner: Inner = field(default_factory=Inner)
    extra: Inner | None = None
    table: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            raise OpNetError("name: expected a non-empty string")


def test_any_dataclass_is_read_from_its_annotations():
    plain = {"colour": "blue", "folder": "/tmp/r", "inner": {"steps": [3, 4]}, "extra": {}, "table": {"a": 1}}
    got = from_plain(Outer, plain, "f.yaml")
    assert got == Outer(
        colour=Colour.BLUE, folder=Path("/tmp/r"), inner=Inner((3, 4)), extra=Inner(), table={"a": 1.0}
    )
    assert to_plain(got) == {**plain, "name": "x", "extra": {"steps": [1, 2]}, "table": {"a": 1}}
    assert replace_from_plain(got, {"inner": {}}, "f.yaml") == got


@pytest.mark.parametrize(
    ("plain", "message"),
    [
        ({"colour": "green"}, "f.yaml: colour: 'green' is not one of red, blue"),
        ({"inner": {"steps": [1]}}, "f.yaml: inner.steps: [1] should be a list of 2 values"),
        ({"inner": {"steps": [1, "2"]}}, "f.yaml: inner.steps[1]: '2' should be an int"),
        ({"inner": {"depth": 1}}, "f.yaml: unknown setting(s) inner.depth"),
        ({"inner": 3}, "f.yaml: inner should be a mapping"),
        ({"extra": 3}, "f.yaml: extra should be a mapping"),
        ({"table": {"a": "1"}}, "f.yaml: table.a: '1' should be a float"),
        ({"name": ""}, "f.yaml: name: expected a non-empty string"),
        ({"name": None}, "f.yaml: name: None should be a str"),
    ],
)
def test_refusals_name_the_source_and_the_setting(plain, message):
    with pytest.raises(OpNetError) as e:
        from_plain(Outer, plain, "f.yaml")
    assert message in str(e.value)
