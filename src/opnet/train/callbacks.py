"""Lightning callbacks of a run: recording each epoch (metrics, checkpoints, resume state, plot),
the time budget, and a progress bar in images per second."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from typing import Any

import lightning.pytorch as pl
from tqdm import tqdm

from opnet.fileio import fresh_temp_path, temp_path_for
from opnet.models import save_checkpoint
from opnet.settings import to_plain
from opnet.train.config import TrainConfig
from opnet.train.history import Row, write_metrics_csv
from opnet.train.module import PoseTrainingModule
from opnet.train.outputs import RunPaths
from opnet.train.plot import plot_history
from opnet.train.schedule import epoch_lr_factor
from opnet.train.swa import SwaCallback
from opnet.train.validation import pose_loss_weights, score_of

log = logging.getLogger(__name__)

EpochHook = Callable[[Row], None]
PLOT_INTERVAL_S = 60.0
"""The plot (slow to draw: about a second) is redrawn after an epoch at most this often, and at the end."""


def describe_epoch(row: Row, epochs: int, best: Row | None) -> str:
    """One log line: losses, validation error, best so far, speed."""
    text = f"epoch {int(row['epoch'])}/{epochs}: loss {row.get('train_total', float('nan')):.4g}"
    if "val_mean_deg" in row:
        text += (
            f", val MAE {row['val_mean_deg']:.2f} deg (pitch {row['val_pitch_deg']:.2f}, "
            f"yaw {row['val_yaw_deg']:.2f}, roll {row['val_roll_deg']:.2f})"
        )
    elif "val_total" in row:
        text += f", val loss {row['val_total']:.4g}"
    if best is not None and "val_mean_deg" in best:
        text += f", best {best['val_mean_deg']:.2f} deg (epoch {int(best['epoch'])})"
    elif best is not None:
        text += f", best {score_of(best):.4g} (epoch {int(best['epoch'])})"
    return text + f", {row['images_per_s']:.0f} img/s, {row['train_s']:.1f} s"


class RunRecorder(pl.Callback):
    """After each epoch: a metrics row, ``metrics.csv``, ``last.ckpt``, ``best.ckpt`` when the
    validation score improved (:func:`opnet.train.validation.score_of`), Lightning's resume state,
    and the plot (:data:`PLOT_INTERVAL_S`). Every file is replaced atomically, so a kill at any
    moment leaves a consistent run.
    """

    def __init__(
        self, config: TrainConfig, paths: RunPaths, swa: SwaCallback | None, hook: EpochHook | None = None
    ):
        self.config = config
        self.paths = paths
        self.swa = swa
        self.hook = hook
        self.history: list[Row] = []
        self.best: Row | None = None
        self._pose_weights = pose_loss_weights(config.best_metric, config.loss.weights())
        self._started = time.monotonic()
        self._epoch_start = self._train_end = self._last_epoch_end = 0.0
        self._plotted = -math.inf

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history, "best": self.best}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = list(state_dict["history"])
        self.best = state_dict["best"]

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._epoch_start = self._train_end = time.monotonic()

    def on_validation_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._train_end = time.monotonic()

    def _row(self, trainer: pl.Trainer, module: PoseTrainingModule) -> Row:
        epoch = trainer.current_epoch
        train_s = max(
            1e-9,
            (self._train_end if self._train_end > self._epoch_start else time.monotonic())
            - self._epoch_start,
        )
        samples = module.steps * self.config.batch_size * trainer.world_size
        means = {
            k: float(trainer.strategy.reduce(v, reduce_op="mean"))
            for k, v in module.epoch_train_means().items()
        }
        return {
            "epoch": epoch + 1,
            "lr": self.config.lr * epoch_lr_factor(self.config, epoch, int(trainer.num_training_batches)),
            "samples": samples,
            "train_s": train_s,
            "images_per_s": samples / train_s,
            "elapsed_s": time.monotonic() - self._started,
            **means,
            **module.val_metrics,
            "swa_epochs": self.swa.epochs_averaged if self.swa else 0,
        }

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        assert isinstance(pl_module, PoseTrainingModule)
        row = self._row(trainer, pl_module)
        self._last_epoch_end = time.monotonic()
        self.history.append(row)
        improved = self.best is None or score_of(row, self._pose_weights) < score_of(
            self.best, self._pose_weights
        )
        if improved:
            self.best = row
        self._save_resume_state(trainer)
        if not trainer.is_global_zero:
            return
        extra = {"train_config": to_plain(self.config), "epoch": int(row["epoch"]), "metrics": row}
        save_checkpoint(self.paths.last, pl_module.net, {**extra, "kind": "last"}, overwrite=True)
        if improved:
            save_checkpoint(self.paths.best, pl_module.net, {**extra, "kind": "best"}, overwrite=True)
        write_metrics_csv(self.history, self.paths.metrics)
        if time.monotonic() - self._plotted > PLOT_INTERVAL_S:
            self._plot()
        log.info(describe_epoch(row, self.config.epochs, self.best))
        if self.hook is not None:
            self.hook(row)

    def _plot(self) -> None:
        if self.paths.plot is not None and self.history:
            plot_history(self.history, self.paths.plot)
        self._plotted = time.monotonic()

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """The final plot, also when the run stopped early."""
        if trainer.is_global_zero and self._plotted < self._last_epoch_end:
            self._plot()

    def _save_resume_state(self, trainer: pl.Trainer) -> None:
        """Lightning's checkpoint (every process takes part), written under a temporary name, then renamed;
        process 0 first removes temporaries that killed runs left in the folder."""
        tmp = (
            fresh_temp_path(self.paths.resume) if trainer.is_global_zero else temp_path_for(self.paths.resume)
        )
        trainer.save_checkpoint(tmp, weights_only=False)
        if trainer.is_global_zero:
            os.replace(tmp, self.paths.resume)

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        if trainer.is_global_zero and isinstance(exception, (KeyboardInterrupt, SystemExit)):
            done = len(self.history)
            saved = f"{self.paths.last.name} holds epoch {done}" if done else "no epoch was completed"
            log.warning(
                "interrupted in epoch %d; %s; continue with: opnet train --resume %s",
                done + 1,
                saved,
                self.paths.outdir,
            )


class TimeBudget(pl.Callback):
    """Stops after the last epoch that is expected to end within ``minutes`` of ``started``
    (time.monotonic()), judged by the mean epoch time so far; records that it stopped the run."""

    def __init__(self, minutes: float, started: float):
        self.seconds = 60.0 * minutes
        self.started = started
        self.stopped = False
        self._epoch_times: list[float] = []
        self._epoch_start = 0.0

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._epoch_start = time.monotonic()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        now = time.monotonic()
        self._epoch_times.append(now - self._epoch_start)
        mean = sum(self._epoch_times) / len(self._epoch_times)
        last = trainer.max_epochs is not None and trainer.current_epoch + 1 >= trainer.max_epochs
        stop = not last and now - self.started + mean > self.seconds
        if trainer.strategy.reduce_boolean_decision(stop, all=False):
            trainer.should_stop = True
            self.stopped = True
            log.info(
                "time budget of %.3g min reached: stopping after epoch %d",
                self.seconds / 60,
                trainer.current_epoch + 1,
            )


class EpochProgress(pl.Callback):
    """A tqdm bar per epoch counting images (its rate is the training speed), with the running loss."""

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self._bar: tqdm | None = None

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.is_global_zero:
            total = trainer.num_training_batches * self.batch_size * trainer.world_size
            self._bar = tqdm(
                total=total,
                unit="img",
                desc=f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}",
                leave=False,
                dynamic_ncols=True,
            )

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self._bar is not None:
            self._bar.update(self.batch_size * trainer.world_size)
            if isinstance(outputs, dict) and "loss" in outputs:
                self._bar.set_postfix(loss=f"{float(outputs['loss']):.4g}", refresh=False)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._close()

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
