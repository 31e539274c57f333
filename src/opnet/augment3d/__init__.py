"""Large-pose synthesis: fit a 3D face model to a photo, turn the head, re-render the photo as its
texture, keep exact labels (``opnet augment3d``). The fits of landmark-only datasets start from
pseudo-labels (``opnet pseudolabel``, :mod:`opnet.evaluate.pseudolabel`). See docs/augment3d.md.

- :mod:`~opnet.augment3d.fitting`: pose, shape and expression from 68 landmarks (robust, with a prior);
- :mod:`~opnet.augment3d.poses`: the new poses of a source face (yaw bins);
- :mod:`~opnet.augment3d.scene`: the photo as a 3D scene (head + surroundings) and its new views;
- :mod:`~opnet.augment3d.generate`: whole datasets, in parallel, reproducible from a seed.
"""

from opnet.augment3d.config import AugmentConfig
from opnet.augment3d.fitting import FaceParams, LandmarkFit, fit_landmarks, fit_shape
from opnet.augment3d.generate import Summary, augment_dataset
from opnet.augment3d.inputs import FitMode
from opnet.augment3d.poses import sample_poses
from opnet.augment3d.scene import Scene, ViewSettings, build_scene, render_view

__all__ = [
    "AugmentConfig",
    "FaceParams",
    "FitMode",
    "LandmarkFit",
    "Scene",
    "Summary",
    "ViewSettings",
    "augment_dataset",
    "build_scene",
    "fit_landmarks",
    "fit_shape",
    "render_view",
    "sample_poses",
]
