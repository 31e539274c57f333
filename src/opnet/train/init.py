"""``opnet train --init CKPT``: start a run from the weights of a checkpoint (OpNet's or the original code's).

The run takes the checkpoint's architecture (backbone, width, BlurPool, layer style, keypoint
model), input size and input normalisation, and the run's choice of heads: a head the run needs
but the checkpoint lacks starts as a new network's would, a head the checkpoint has but the run
does not use is left out; both are reported. Settings given explicitly for the run that contradict
the checkpoint's architecture are refused; an explicit ``input_size`` or ``input_norm`` is taken
(the network pools globally; fine-tuning for another normalisation, e.g. OpenTrack's).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor

from opnet.errors import OpNetError
from opnet.models import KeypointModel, ModelConfig, PoseNet, load_checkpoint
from opnet.train.config import TrainConfig

log = logging.getLogger(__name__)

ARCHITECTURE_FLAGS = {
    "backbone": "--backbone",
    "width": "--width",
    "blurpool": "--blurpool/--no-blurpool",
    "style": "model.style",
    "pose_offset": "model.pose_offset",
}
"""Model settings that must agree with the checkpoint (and the flag that sets each)."""


@dataclass(frozen=True)
class InitWeights:
    """The weights a run starts from: ``source`` file, its network's config and state dict."""

    source: Path
    config: ModelConfig
    state: dict[str, Tensor]

    def keypoints(self) -> KeypointModel | None:
        """The checkpoint's keypoint model (None without a landmark head)."""
        if not self.config.landmarks:
            return None
        prefix = "landmark_head.keypoints."
        return KeypointModel(self.state[prefix + "mean"], self.state[prefix + "basis"])

    def load_into(self, net: PoseNet) -> dict[str, list[str]]:
        """Copies every matching tensor into ``net``; returns the modules initialised as usual
        ("new") and those of the checkpoint left out ("unused"), and logs them."""
        own = net.state_dict()
        for key, value in self.state.items():
            if key in own and own[key].shape != value.shape:
                raise OpNetError(
                    f"--init {self.source}: '{key}' has shape {tuple(value.shape)}, the run's "
                    f"{tuple(own[key].shape)}"
                )
        net.load_state_dict({**own, **{k: v for k, v in self.state.items() if k in own}})
        report = {
            "new": _modules(k for k in own if k not in self.state),
            "unused": _modules(k for k in self.state if k not in own),
        }
        log.info(
            "--init %s: started from its weights; initialised as usual: %s; not used: %s",
            self.source,
            ", ".join(report["new"]) or "nothing",
            ", ".join(report["unused"]) or "nothing",
        )
        return report


def _modules(keys: Any) -> list[str]:
    """The head modules that ``keys`` belong to (``uncertainty.rotaxis.lin.weight`` -> ``uncertainty``)."""
    return sorted({key.split(".")[0] for key in keys})


def init_from_checkpoint(
    config: TrainConfig, path: str | os.PathLike, explicit: Mapping[str, Any]
) -> tuple[TrainConfig, InitWeights]:
    """``config`` with the model of checkpoint ``path`` (its architecture, the run's heads), and the
    weights to start from. ``explicit``: the model settings given for the run (flags, config file),
    checked against the checkpoint."""
    path = Path(path)
    net, _ = load_checkpoint(path)
    saved = net.config
    for name, flag in ARCHITECTURE_FLAGS.items():
        if name in explicit and explicit[name] != getattr(saved, name):
            raise OpNetError(
                f"--init {path}: the checkpoint has {name} {getattr(saved, name)!r}, but {flag} asks for "
                f"{explicit[name]!r}; leave {flag} out to train the checkpoint's network"
            )
    run = config.model
    model = dataclasses.replace(
        saved,
        landmarks=run.landmarks,
        uncertainty=run.uncertainty,
        num_shape_params=saved.num_shape_params if saved.landmarks else run.num_shape_params,
        input_size=explicit.get("input_size", saved.input_size),
        input_norm=explicit.get("input_norm", saved.input_norm),
    )
    for name in ("input_size", "input_norm"):
        if getattr(model, name) != getattr(saved, name):
            log.info("--init %s: %s %s changed to %s", path, name, getattr(saved, name), getattr(model, name))
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    return dataclasses.replace(config, model=model), InitWeights(path, saved, state)
