"""Evaluation of pose models on labelled datasets: the AFLW2000-3D and BIWI protocols.

Modules: ``protocol`` (pose filter, ROI choices), ``metrics`` (pure error functions),
``alignment`` (BIWI perspective / OPAL23), ``ensemble``, ``stability``, ``runner`` (streaming
batched inference), ``evaluation`` (:func:`evaluate_models`), ``report`` and ``plot`` (outputs);
``pseudolabel``: an ensemble's poses written into a landmark-only dataset (``opnet pseudolabel``).
"""

from opnet.evaluate.evaluation import evaluate_models
from opnet.evaluate.results import EvaluationResult, EvaluationSettings
from opnet.evaluate.stability import StabilitySettings

__all__ = ["EvaluationResult", "EvaluationSettings", "StabilitySettings", "evaluate_models"]
