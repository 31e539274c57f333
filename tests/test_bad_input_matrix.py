"""The bad-input matrix: every subcommand x the bad inputs it reads (tests/bad_inputs.py).

The rule for each case: exit code 2, exactly one line on stderr starting with ``opnet CMD: error:``
and naming the bad file (or the folder that takes no new files), no traceback and no warning,
nothing new in the output folder, the current folder or HOME, and no input file changed. A few cases
may legitimately succeed (evaluate drops samples whose labels are not finite and says how many);
they are marked and checked for that instead.

A new subcommand fails :func:`test_every_subcommand_has_matrix_rows` until it has rows here.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bad_inputs import PWNED, archive_files, dataset_files, image_files, model_files, run_on_screen
from conftest import one_line_error

from opnet.cli import build_parser

EVALUATE_DROPS = r"\b1 dropped for labels that are not finite"
"""What evaluate says when it drops the samples whose labels are not finite."""
AUGMENT3D_DROPS = r"\b1 faces dropped"
PSEUDOLABEL_COMPARES = r"\b1 of 6 samples left out of the comparison: no usable stored quaternion"
"""pseudolabel --replace-labels compares its labels with the file's, leaving out the unusable one."""
PSEUDOLABEL_WRITES = r"wrote \S+p\.h5"
"""pseudolabel --replace-labels replaces quats and coords, and crops from landmarks before rois."""
PSEUDOLABEL_SUCCEEDS = {
    "nan_quats": PSEUDOLABEL_COMPARES,
    "zero_quats": PSEUDOLABEL_COMPARES,
    "nan_coords": PSEUDOLABEL_WRITES,
    "inf_size": PSEUDOLABEL_WRITES,
    "nan_rois": PSEUDOLABEL_WRITES,
}


@dataclass(frozen=True)
class Case:
    """``opnet COMMAND ARGV`` must be refused; or, with ``drops`` (a regex), it may instead succeed if it
    drops the one bad sample of the file and says so (``drops`` found in its output). See ``after_notes``."""

    command: str
    name: str
    argv: tuple[str, ...]
    drops: str | None = None
    after_notes: bool = False
    """The fault shows only once the work has started (training decodes images as it uses them): the
    run's start-up notes may come before the error line."""
    reports: str | None = None
    """A batch command (predict) reports a bad file on its own row (this regex, in its output) and goes
    on with the others: exit code 1 at the end, with one summary line."""

    @property
    def marks(self) -> list[pytest.MarkDecorator]:
        marks = []
        if (self.drops is not None and self.command == "augment3d") or self.after_notes:
            marks.append(pytest.mark.slow)  # the work runs: faces are rendered, steps trained
        return marks

    @property
    def id(self) -> str:
        return f"{self.command}-{self.name}"


# Dataset kinds and the commands that read each. Copying tools (join, filter, split) do not interpret
# label values, so NaN labels pass through them unchanged; they are held to the structural faults.
STRUCTURE = (
    "not_hdf5",
    "empty",
    "truncated",
    "no_fields",
    "wrong_shape",
    "wrong_dtype",
    "short_field",
    "traversal",
    "symlink",
)
LABELS = ("nan_quats", "zero_quats", "nan_coords", "inf_size", "nan_rois", "nan_points")
IMAGES = ("bad_image_bytes", "huge_png", "huge_jpeg")
ALL_DATA = (*STRUCTURE, *LABELS, *IMAGES, "no_images", "zero_length")
BAD_MODELS = (
    "random_onnx",
    "empty_onnx",
    "wrong_onnx",
    "truncated_onnx",
    "random_ckpt",
    "truncated_ckpt",
    "malicious_ckpt",
    "malicious_pickle",
)
PREPARE = ("aflw2k3d", "300wlp", "biwi", "synface", "wflw", "lapa")
ARCHIVES = ("not_zip", "empty_zip", "truncated_zip", "wrong_layout", "zip_slip", "zip_bomb", "empty_folder")
TRAIN = "--dry-run --no-onnx --width 0.25 --batchsize 2 --accelerator cpu --workers 0"
AUGMENT = "--workers 1 --limit 2 --yaw-step 45"
GOOD = "--model {model:good_ckpt}"
PREDICT_IMAGES = {
    "random_jpg": "cannot be decoded",
    "empty_jpg": "cannot be decoded",
    "huge_png": "100 megapixels",
    "huge_jpg": "100 megapixels",
}
MODEL_FILES = (
    "random_ckpt",
    "truncated_ckpt",
    "malicious_ckpt",
    "malicious_pickle",
    "random_onnx",
    "wrong_onnx",
)


def _data_cases(add: Callable[..., None]) -> None:
    """Dataset files x the commands that read them."""
    for kind in (*STRUCTURE, *LABELS, *IMAGES):
        add("inspect", kind, f"{{ds:{kind}}}")
    for kind in ALL_DATA:
        data = f"{{ds:{kind}}}"
        evaluated = kind in LABELS and kind != "zero_quats"
        add("show", kind, f"{data} -o {{out}}/grid.png")
        add(
            "evaluate",
            kind,
            f"{{model:good_ckpt}} --data {data} --json {{out}}/r.json"
            + (" --roi stored" if kind == "nan_rois" else ""),
            drops=EVALUATE_DROPS if evaluated else None,
        )
        add(
            "pseudolabel",
            kind,
            f"{data} {GOOD} -o {{out}}/p.h5 --replace-labels",
            drops=PSEUDOLABEL_SUCCEEDS.get(kind),
        )
        if kind != "nan_rois":  # augment3d draws its own face boxes
            dropped = kind in LABELS or kind in IMAGES
            add(
                "augment3d",
                kind,
                f"{data} {{out}}/a.h5 {AUGMENT}",
                drops=AUGMENT3D_DROPS if dropped else None,
            )
        if kind not in LABELS or kind == "nan_rois":  # training takes other bad labels as missing ones
            add("train", kind, f"--ds {data} --outdir {{out}}/run {TRAIN}", after_notes=kind in IMAGES)
    for kind in STRUCTURE:
        data = f"{{ds:{kind}}}"
        add("join", kind, f"{{ds:good}} {data} -o {{out}}/j.h5")
        add("filter", kind, f"{data} -o {{out}}/f.h5 --drop-indices 0")
        add("split", kind, f"{data} -o {{out}}/a.h5 {{out}}/b.h5 --fractions 0.5 0.5")
        add("export", f"data-{kind}", f"{{model:good_ckpt}} -o {{out}}/m.onnx --data {data}")


def _model_cases(add: Callable[..., None]) -> None:
    """Model, image and video files x the commands that read them."""
    for kind in BAD_MODELS:
        model = f"--model {{model:{kind}}}"
        add("evaluate", kind, f"{{model:{kind}}} --data {{ds:good}}")
        add("predict", kind, f"{{img:face}} {model} --detector haar")
        add("track", kind, f"{{img:good_video}} {model} --detector haar")
        add("pseudolabel", kind, f"{{ds:good}} {model} -o {{out}}/p.h5 --replace-labels")
    for kind in MODEL_FILES:
        add("export", kind, f"{{model:{kind}}} -o {{out}}/m.onnx")
    for kind, why in PREDICT_IMAGES.items():
        add("predict", kind, f"{{img:{kind}}} {GOOD} --detector haar", reports=rf"\| error: .*{why}")
    for kind in ("random_video", "empty_video"):
        add("track", kind, f"{{img:{kind}}} {GOOD} --detector haar")


def _other_cases(add: Callable[..., None]) -> None:
    """Archives, settings files, flags, and output folders that take no new files."""
    for dataset in PREPARE:
        for kind in ARCHIVES:
            add("prepare", f"{dataset}-{kind}", f"{dataset} {{arc:{kind}}} {{out}}/x.h5 --workers 1")
    add("prepare", "aflw2k3d-mat_bomb", "aflw2k3d {arc:mat_bomb} {out}/x.h5 --workers 1")
    add("prepare", "300wlp-mat_bomb", "300wlp {arc:mat_bomb_300wlp} {out}/x.h5 --workers 1")
    add(
        "prepare",
        "300wlp-face-model",
        "300wlp {arc:wrong_layout} {out}/x.h5 --face-model {img:malicious_face_model}",
    )
    add("train", "bad-yaml", f"--config {{img:bad_yaml}} --ds {{ds:good}} --outdir {{out}}/run {TRAIN}")
    add("train", "wrong-yaml", f"--config {{img:wrong_yaml}} --ds {{ds:good}} --outdir {{out}}/run {TRAIN}")
    add("train", "resume-nothing", "--resume {out}")
    add("augment3d", "face-model", "{ds:good} {out}/a.h5 --face-model {img:malicious_face_model}")
    add("augment3d", "bad-pickle", "{ds:good} {out}/a.h5 --face-model {img:bad_pickle}")
    add("synth", "zero", "{out}/s.h5 -n 0")
    add("synth", "size", "{out}/s.h5 -n 2 --size -8")
    add("synth", "no-folder", "{out}/missing/s.h5 -n 2")
    add("download", "unknown", "no-such-dataset --outdir {out}")
    add("demo", "real-faces", "--dry-run --outdir {out}/demo --real-faces {ds:not_hdf5}")
    add("demo", "minutes", "--dry-run --outdir {out}/demo --minutes -1")
    add("synth", "unwritable", "{ro}/s.h5 -n 2 --size 64 --workers 1")
    add("show", "unwritable", "{ds:good} -o {ro}/grid.png")
    add("join", "unwritable", "{ds:good} {ds:good} -o {ro}/j.h5")
    add("filter", "unwritable", "{ds:good} -o {ro}/f.h5")
    add("split", "unwritable", "{ds:good} -o {ro}/a.h5 {ro}/b.h5 --fractions 0.5 0.5")
    add("evaluate", "unwritable", "{model:good_ckpt} --data {ds:good} --json {ro}/r.json")
    add("prepare", "unwritable", "aflw2k3d {arc:mat_bomb} {ro}/x.h5")
    add("predict", "unwritable", f"{{img:face}} {GOOD} --detector haar --outdir {{ro}}/a")
    add("predict", "unwritable-output", f"{{img:face}} {GOOD} --detector haar -o {{ro}}/faces.png")
    add("export", "unwritable", "{model:good_ckpt} -o {ro}/m.onnx")
    add("train", "unwritable", f"--ds {{ds:good}} --outdir {{ro}}/run {TRAIN}")
    add("augment3d", "unwritable", "{ds:good} {ro}/a.h5 --workers 1")
    add("pseudolabel", "unwritable", f"{{ds:good}} {GOOD} -o {{ro}}/p.h5 --replace-labels")
    add("track", "unwritable", f"{{img:good_video}} {GOOD} --csv {{ro}}/p.csv")
    add("demo", "unwritable", "--dry-run --outdir {ro}/demo --no-real-faces")
    add("download", "unwritable", "aflw2k3d --outdir {ro}")


def _subcommand_options() -> dict[str, set[str]]:
    """Each subcommand's option strings, from the parser itself."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {
        name: {option for action in sub._actions for option in action.option_strings}
        for name, sub in subparsers.choices.items()
    }


def _landing_cases(add: Callable[..., None]) -> None:
    """Rows for commands and flags that other branches add, written as soon as they exist."""
    options = _subcommand_options()
    if "convert" in options:
        for kind in ("random_ckpt", "truncated_ckpt", "malicious_ckpt", "malicious_pickle", "wrong_onnx"):
            add("convert", kind, f"{{model:{kind}}} -o {{out}}/c.ckpt")
        add("convert", "opnet-checkpoint", "{model:good_ckpt} -o {out}/c.ckpt")
        add("convert", "unwritable", "{model:good_ckpt} -o {ro}/c.ckpt")
    if "--mirror" in options["download"]:  # released models, into the user cache (an empty one here)
        add("download", "model-mirror-down", "head-pose-0.2-small --mirror http://127.0.0.1:9/")
        add("predict", "model-not-cached", "{img:face} --model head-pose-0.2-small --detector haar")
        add("track", "model-not-cached", "{img:good_video} --model head-pose-0.2-small")
    if "--init" in options["train"]:
        for kind in ("truncated_ckpt", "malicious_ckpt", "wrong_onnx"):
            add(
                "train",
                f"init-{kind}",
                f"--ds {{ds:good}} --init {{model:{kind}}} --outdir {{out}}/run {TRAIN}",
            )


def _cases() -> list[Case]:
    """The rows; each ``add(command, name, arguments)`` splits its arguments at spaces."""
    cases: list[Case] = []

    def add(command: str, name: str, argv: str, **expect: Any) -> None:
        cases.append(Case(command, name, tuple(argv.split()), **expect))

    for group in (_data_cases, _model_cases, _other_cases, _landing_cases):
        group(add)
    cases.append(Case("track", "udp-empty", ("{img:good_video}", *GOOD.split(), "--udp", "")))
    return cases


CASES = _cases()


def test_every_subcommand_has_matrix_rows() -> None:
    """A new subcommand must be added to the matrix."""
    commands = set(_subcommand_options())
    covered = {case.command for case in CASES}
    assert commands - covered == set(), f"subcommands without bad-input rows: {sorted(commands - covered)}"
    assert covered <= commands, f"rows for commands that do not exist: {sorted(covered - commands)}"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    root = tmp_path_factory.mktemp("bad-inputs")
    made = {}
    for key, generate in (
        ("ds", dataset_files),
        ("arc", archive_files),
        ("model", model_files),
        ("img", image_files),
    ):
        folder = root / key
        folder.mkdir()
        made[key] = generate(folder)
    made["img"]["face"] = root / "img" / "face.jpg"
    made["root"] = {"": root}
    with pytest.MonkeyPatch.context() as env:  # matplotlib's font cache, built once, outside HOME
        env.setenv("MPLCONFIGDIR", str(root.parent / "matplotlib"))
        import matplotlib.font_manager  # noqa: F401
    return made


@pytest.fixture(scope="module")
def unwritable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that refuses new files: a read-only one, or a sysfs folder when running as root."""
    if os.geteuid() != 0:
        folder = tmp_path_factory.mktemp("read-only")
        folder.chmod(0o555)
        return folder
    folder = Path("/sys/kernel")
    try:
        os.close(os.open(folder / ".opnet-probe", os.O_CREAT | os.O_WRONLY))
    except OSError:
        return folder
    pytest.skip("no folder here refuses new files")


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in files + dirs:
            path = Path(folder) / name
            st = path.lstat()
            out[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def _argv(case: Case, inputs: dict[str, dict[str, Path]], out: Path, ro: Path) -> list[str]:
    def fill(arg: str) -> str:
        arg = arg.replace("{out}", str(out)).replace("{ro}", str(ro))
        return re.sub(r"\{(\w+):(\w+)\}", lambda m: str(inputs[m[1]][m[2]]), arg)

    return [fill(a) for a in case.argv]


GOOD_INPUTS = ("{ds:good}", "{model:good_ckpt}", "{img:face}", "{img:good_video}")


def _named(case: Case, inputs: dict[str, dict[str, Path]], ro: Path) -> tuple[str, ...]:
    """What the error line must name: the folder that takes no new files (refused before any input
    is read), else the bad input file (its name; the last one given); nothing for a flag value (the
    message names the flag in its own words)."""
    if any("{ro}" in arg for arg in case.argv):
        return (str(ro),)
    bad = [p for arg in case.argv for p in re.findall(r"\{\w+:\w+\}", arg) if p not in GOOD_INPUTS]
    if not bad:
        return ()
    key, name = bad[-1][1:-1].split(":")
    return (inputs[key][name].name,)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input(case: Case, inputs, unwritable, tmp_path: Path, capfd, monkeypatch) -> None:
    work, out, home = tmp_path / "cwd", tmp_path / "out", tmp_path / "home"
    for folder in (work, out, home):
        folder.mkdir()
    monkeypatch.chdir(work)
    for name in ("HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(home))
    monkeypatch.setenv("NUM_WORKERS", "1")
    monkeypatch.setenv("MPLCONFIGDIR", str(inputs["root"][""].parent / "matplotlib"))  # its font cache
    monkeypatch.delenv("DATADIR", raising=False)
    before_inputs, before_ro = _tree(inputs["root"][""]), sorted(os.listdir(unwritable))
    capfd.readouterr()

    code, stdout, err = run_on_screen(case.command, _argv(case, inputs, out, unwritable), capfd)

    assert not (work / PWNED).exists(), "a pickle ran code"
    assert _tree(inputs["root"][""]) == before_inputs, "an input file was changed"
    assert sorted(os.listdir(unwritable)) == before_ro
    assert _tree(work) == {}, f"files left in the current folder: {_tree(work)}"
    assert _tree(home) == {}, f"files left in HOME: {_tree(home)}"
    if case.reports is not None:
        assert code == 1 and re.search(case.reports, stdout), f"exit code {code}; output: {stdout} {err}"
        assert err[-1] == f"opnet {case.command}: 1 of 1 images could not be read", err
        assert not [line for line in err if re.search(r"(?i)warn|traceback", line)], err
        assert _tree(out) == {}
        return
    if case.drops is not None and code == 0:
        assert re.search(case.drops, "\n".join([stdout, *err])), f"no drop count: {stdout} {err}"
        return
    assert _tree(out) == {}, f"files left in the output folder: {_tree(out)}"
    assert code == 2, f"exit code {code}; stderr: {err}"
    if case.after_notes:
        notes = [line for line in err[:-1] if re.search(r"(?i)error|warn|traceback", line)]
        assert not notes, "problems reported before the error:\n" + "\n".join(notes)
        err = err[-1:]
    assert len(err) == 1, "expected one line on stderr, got:\n" + "\n".join(err)
    assert one_line_error(case.command, code, err[0], *_named(case, inputs, unwritable)), err[0]
    assert "weights_only" not in err[0]
