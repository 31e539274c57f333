"""The examples in the docstrings of OpNet's front doors run and print what they show."""

from __future__ import annotations

import doctest

import pytest

import opnet.data
import opnet.evaluate
import opnet.export
import opnet.models
import opnet.runtime
import opnet.settings
import opnet.synth
import opnet.train.run

FRONT_DOORS = {
    "create_model": opnet.models.create_model,
    "open_dataset": opnet.data.open_dataset,
    "generate_dataset": opnet.synth.generate_dataset,
    "load_pose_model": opnet.runtime.load_pose_model,
    "evaluate_models": opnet.evaluate.evaluate_models,
    "export_model": opnet.export.export_model,
    "train": opnet.train.run.train,
    "opnet.settings": opnet.settings,
}


@pytest.mark.parametrize("name", FRONT_DOORS)
def test_the_docstring_example_runs(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write their files into the working folder
    tests = doctest.DocTestFinder(recurse=False).find(FRONT_DOORS[name], name)
    assert tests and all(t.examples for t in tests), f"{name} has no example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
