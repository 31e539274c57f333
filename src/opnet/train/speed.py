"""How fast training steps run here: a few real steps timed, to size a run to a time budget.

A step is what the loop does per batch: forward, losses, backward, infinity-norm clipping, Adam.
With ``include_data`` each step also makes its batch (reading, decoding, augmenting), as the
training process does when it has no data-loader workers.
"""

from __future__ import annotations

import statistics
import time

import torch

from opnet.models import KeypointModel, create_model
from opnet.normalization import InputNorm
from opnet.targets import PoseBatch
from opnet.train.config import TrainConfig
from opnet.train.data import MixDataset
from opnet.train.mixing import DatasetMix
from opnet.train.module import PoseTrainingModule
from opnet.train.sampler import SampleKey


def training_step_rate(
    config: TrainConfig, mix: DatasetMix, steps: int = 10, include_data: bool = True, warmup: int = 3
) -> float:
    """Images/s of training steps of ``config``'s network on batches of ``mix`` (median of ``steps``
    timed steps after ``warmup`` steps: the first steps of a process run slower), in this process
    with torch's current thread count.

    The network has the run's shape but its own weights; nothing of a run is touched.
    """
    samples = MixDataset(mix, config.augment, seed=config.seed, norm=InputNorm(config.model.input_norm))
    size = int(mix.sizes[0])

    def batch(step: int) -> PoseBatch:
        keys = [
            SampleKey(0, k, 0, k % size)
            for k in range(step * config.batch_size, (step + 1) * config.batch_size)
        ]
        return samples.__getitems__(keys)

    keypoints = KeypointModel.empty(config.model.num_shape_params) if config.model.landmarks else None
    net = create_model(config.model, keypoints)
    module = PoseTrainingModule(config, net)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    fixed = None if include_data else batch(0)
    times = []
    for step in range(warmup + steps):
        start = time.perf_counter()
        optimizer.zero_grad()
        module.training_step(batch(step) if fixed is None else fixed, step).backward()
        module.configure_gradient_clipping(optimizer)
        optimizer.step()
        times.append(time.perf_counter() - start)
    return config.batch_size / statistics.median(times[warmup:])
