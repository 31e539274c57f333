"""Synthetic heads: the built-in dataset (``opnet synth``), rendered with exact labels.

A :class:`~opnet.synth.person.Person` (procedural head shape, painted texture, hair, clothes, and
what the head wears: long hair, glasses, a hat) is
pictured in :class:`~opnet.synth.shot.Shot` s (pose, expression, placement, light, a hand, camera effects) by
:func:`~opnet.synth.scene.render_shot`; :func:`~opnet.synth.labels.pose_labels` gives the labels
and :func:`~opnet.synth.generate.generate_dataset` writes sequences of samples to a dataset file.
"""

from opnet.synth.config import Occluders, Realism, SynthConfig
from opnet.synth.generate import generate_dataset, sample_at

__all__ = ["Occluders", "Realism", "SynthConfig", "generate_dataset", "sample_at"]
