"""OpenTrack's tracking state machine (opnet.track.tracker) with a scripted detector and a fake pose model."""

from __future__ import annotations

import numpy as np
import pytest

from opnet.runtime import PoseOutputs
from opnet.runtime.detection import FaceDetection
from opnet.track.tracker import FaceTracker, TrackerSettings, blend_boxes, expand_box, whole_pixel_box

FRAME = np.full((480, 640), 100, np.uint8)
# In patch units, the box of a square face box: OpenTrack's patch side is 1.05 times the box side.
SAME_BOX = np.array([-1, -1, 1, 1]) / 1.05


class FakeModel:
    """Returns the box it was given (for square boxes of sides multiple of 20), moved by ``shift``
    patch units."""

    name, input_size, max_batch, has_points, input_norm = "fake", 16, 1, False, None

    def __init__(self, shift=(0.0, 0.0)):
        self.box = (SAME_BOX + np.tile(shift, 2)).astype(np.float32)[None]
        self.calls = 0

    def run(self, x):
        self.calls += 1
        return PoseOutputs(
            np.array([[0, 0, 0, 1]], np.float32), np.array([[0, 0, 0.5]], np.float32), self.box
        )


class ScriptedDetector:
    """Answers each call with the next scripted candidate (or nothing)."""

    name = "scripted"

    def __init__(self, *answers):
        self.answers, self.calls = list(answers), 0

    def detect(self, image):
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return [] if answer is None else [FaceDetection(np.asarray(answer[0], float), answer[1])]


FACE = ([200, 100, 300, 200], 0.9)


def test_no_face_means_no_pose_and_the_detector_runs_every_frame():
    det, model = ScriptedDetector(None), FakeModel()
    tracker = FaceTracker(model, det)
    steps = [tracker.step(FRAME) for _ in range(3)]
    assert all(s.face is None and s.roi is None for s in steps)
    assert det.calls == 3 and model.calls == 0


@pytest.mark.parametrize(
    "answer", [([200, 100, 300, 200], 0.4), ([200, 100, 232, 200], 0.9), ([200, 100, 300, 132], 0.9)]
)
def test_weak_or_small_faces_are_not_acquired(answer):
    tracker = FaceTracker(FakeModel(), ScriptedDetector(answer))
    step = tracker.step(FRAME)
    assert step.face is None and step.detection.score == answer[1] and tracker.roi is None


def test_acquired_face_is_tracked_with_its_own_box_without_the_detector():
    det, model = ScriptedDetector(FACE), FakeModel()
    tracker = FaceTracker(model, det)
    first = tracker.step(FRAME)
    assert np.allclose(first.roi, FACE[0]) and first.detector_s is not None and first.pose_s is not None
    assert np.allclose(first.face.coords[0], [250, 150, 0.25 * 105])  # centre of the 105 px patch
    later = [tracker.step(FRAME) for _ in range(4)]
    assert det.calls == 1 and model.calls == 5
    assert all(np.allclose(s.roi, FACE[0]) and s.detector_s is None for s in later)


def test_drifting_roi_calls_the_detector_which_confirms_or_moves_or_loses_the_face():
    shift = (0.3, 0.0)  # the box moves 0.3 * 52.5 = 15.75 px right per frame
    moved = ([260, 100, 360, 200], 0.9)
    det = ScriptedDetector(FACE, moved, ([400, 300, 480, 380], 0.8), None)
    tracker = FaceTracker(FakeModel(shift), det)
    steps = [tracker.step(FRAME)]
    while det.calls < 2:
        steps.append(tracker.step(FRAME))
    # The ROI left the detector's box (IoU < 0.25 after 4 frames, 63 px); the detector sees the face
    # where the ROI is: it only updates its own box, the ROI keeps following the network.
    assert len(steps) == 5 and np.allclose(steps[-1].detector_box, moved[0])
    assert np.array_equal(steps[-1].roi, [264, 100, 364, 200])  # 4 x 15.75 px, each crop on whole pixels
    while det.calls < 3:
        steps.append(tracker.step(FRAME))
    assert np.allclose(steps[-1].roi, [400, 300, 480, 380])  # no overlap: the face jumps to the new detection
    while det.calls < 4:
        steps.append(tracker.step(FRAME))
    assert steps[-1].face is None and tracker.roi is None and tracker.detector_box is None


def test_roi_zoom_and_filter_alpha():
    settings = TrackerSettings(roi_zoom=1.2, roi_filter_alpha=0.5)
    tracker = FaceTracker(FakeModel((0.2, 0.0)), ScriptedDetector(FACE), settings)
    tracker.step(FRAME)
    predicted = np.array(FACE[0], float) + [10.5, 0, 10.5, 0]  # 0.2 * 52.5 px to the right
    expected = blend_boxes(np.array(FACE[0], float), expand_box(predicted, 1.2), 0.5)
    assert np.allclose(tracker.roi, expected)
    assert np.allclose(expected, [200.25, 95, 310.25, 205])  # centre 250 -> 255.25, size 100 -> 110


def test_degenerate_boxes_lose_the_face():
    model = FakeModel()
    model.box = np.array([[0.5, 0.5, -0.5, -0.5]], np.float32)  # inverted box
    tracker = FaceTracker(model, ScriptedDetector(FACE))
    assert tracker.step(FRAME).face is not None
    assert tracker.roi is None


def test_whole_pixel_boxes_round_like_opencv():
    assert np.array_equal(whole_pixel_box(np.array([10.5, 11.5, 50.4, 61.6])), [10, 12, 50, 62])
    assert np.array_equal(whole_pixel_box(np.array([-0.4, 0.6, 99.6, 100.4])), [0, 1, 100, 101])


def test_settings_are_checked():
    with pytest.raises(ValueError):
        TrackerSettings(roi_filter_alpha=0.0)


def test_box_iou_by_hand_and_for_empty_boxes():
    from opnet.geometry import box_iou

    assert box_iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(50 / 150)
    assert box_iou([0, 0, 10, 10], [20, 20, 30, 30]) == 0.0
    assert box_iou([0, 0, 0, 0], [0, 0, 0, 0]) == 0.0  # no union: 0, not NaN
    assert box_iou([10, 10, 0, 0], [0, 0, 10, 10]) == 0.0  # inverted boxes are empty
    assert np.allclose(box_iou([[0, 0, 2, 2], [0, 0, 1, 1]], [1, 1, 3, 3]), [1 / 7, 0.0])
