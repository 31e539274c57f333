"""Synthetic heads: the built-in dataset (``opnet synth``), rendered with exact labels.

A :class:`~opnet.synth.person.Person` (procedural head shape, painted texture, hair, clothes) is
pictured in :class:`~opnet.synth.shot.Shot` s (pose, placement, light, camera effects) by
:func:`~opnet.synth.scene.render_shot`; :func:`~opnet.synth.labels.pose_labels` gives the labels
and :func:`~opnet.synth.generate.generate_dataset` writes sequences of samples to a dataset file.
"""

from opnet.synth.config import SynthConfig
from opnet.synth.generate import generate_dataset, sample_at

__all__ = ["SynthConfig", "generate_dataset", "sample_at"]
