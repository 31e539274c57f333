"""docs/promises.md names the tests that hold each promise: every name must be a test that exists."""

from __future__ import annotations

import ast
import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_named_in_the_promises_exists() -> None:
    page = (ROOT / "docs" / "promises.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_\w+\.py)::(test_\w+)`", page))
    assert len(named) >= 20
    for file, test in sorted(named):
        tree = ast.parse((ROOT / "tests" / file).read_text(encoding="utf-8"))
        tests = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert test in tests, f"docs/promises.md names {file}::{test}, which does not exist"


def test_every_matrix_row_named_in_the_promises_exists() -> None:
    """Names like `prepare-*-zip_slip` are rows (or patterns of rows) of the bad-input matrix."""
    from test_bad_input_matrix import CASES

    page = (ROOT / "docs" / "promises.md").read_text(encoding="utf-8")
    rows = {pattern for pattern in re.findall(r"`([\w*]+-[\w*-]+)`", page) if not pattern.startswith("-")}
    assert len(rows) >= 10
    ids = [case.id for case in CASES]
    for pattern in sorted(rows):
        assert fnmatch.filter(ids, pattern), f"docs/promises.md names matrix rows {pattern}: there are none"
