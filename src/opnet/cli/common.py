"""Helpers shared by subcommands: argument types and the environment (read here only)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from opnet.errors import OpNetError


def parse_indices(text: str) -> list[int]:
    """'0 3 5-9,12' -> [0, 3, 5, 6, 7, 8, 9, 12] (ranges inclusive)."""
    out: list[int] = []
    for part in text.replace(",", " ").split():
        try:
            if "-" in part[1:]:
                a, b = part.split("-", 1) if not part.startswith("-") else (part, part)
                out.extend(range(int(a), int(b) + 1))
            else:
                out.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad index {part!r}; expected e.g. '0 3 5-9'") from None
    return out


def data_dir() -> Path | None:
    """``$DATADIR``, where dataset names like ``aflw2k3d`` are looked up."""
    value = os.environ.get("DATADIR")
    return Path(value) if value else None


def num_workers() -> int:
    """``$NUM_WORKERS`` or the number of usable CPU cores."""
    value = os.environ.get("NUM_WORKERS")
    if value:
        try:
            return max(0, int(value))
        except ValueError:
            raise OpNetError(f"NUM_WORKERS={value!r}: expected a whole number") from None
    return len(os.sched_getaffinity(0))


def existing_file(text: str) -> Path:
    """Argument type: a path that must exist."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return path


KNOWN_DATASETS: dict[str, str] = {
    "aflw2k3d": "aflw2k.h5",
    "300wlp": "300wlp.h5",
    "repro_300_wlp": "reproduction_300wlp-v12.h5",
    "repro_300_wlp_woextra": "reproduction_300wlp_simple.h5",
    "lapa_megaface_lp": "lapa-megaface-augmented-v2.h5",
    "wflw_lp": "wflw_augmented_v4.h5",
    "synface": "microsoft_synface_100000-v1.1.h5",
    "biwi": "biwi-v3.h5",
}
"""Dataset names accepted wherever a dataset file is, and the file each means in ``$DATADIR``."""


def resolve_dataset(name_or_path: str, flag: str) -> Path:
    """A dataset argument -> an existing file: a path as given, or a known name looked up in ``$DATADIR``."""
    path = Path(name_or_path)
    if name_or_path not in KNOWN_DATASETS:
        if path.is_file():
            return path
        names = ", ".join(KNOWN_DATASETS)
        raise OpNetError(f"{flag} {name_or_path}: no such file, and not a dataset name ({names})")
    root = data_dir()
    if root is None:
        raise OpNetError(
            f"{flag} {name_or_path}: set DATADIR to the folder that holds {KNOWN_DATASETS[name_or_path]}"
        )
    path = root / KNOWN_DATASETS[name_or_path]
    if not path.is_file():
        raise OpNetError(f"{flag} {name_or_path}: {path} not found (DATADIR={root})")
    return path


JSON_STDOUT = "-"
"""The value of ``--json`` without a file: print the document instead of the table."""


def add_json_option(p: argparse.ArgumentParser, what: str) -> None:
    """``--json [FILE]``: ``what`` as JSON into FILE, or on standard output without one."""
    p.add_argument(
        "--json",
        nargs="?",
        const=JSON_STDOUT,
        metavar="FILE",
        help=f"{what} as JSON: into FILE, or printed instead of the table without one",
    )


def json_flag_argv(argv: list[str]) -> list[str]:
    """``--json INPUT`` -> ``--json=- INPUT`` when INPUT is an existing file or folder not named *.json.

    ``--json`` takes an optional FILE, so ``opnet predict --json photo.jpg`` would read the photo as
    the JSON output; an existing input right after ``--json`` is left to the positionals instead.
    """
    out = list(argv)
    for k, word in enumerate(out[:-1]):
        following = out[k + 1]
        if word == "--json" and not following.startswith("-") and not following.lower().endswith(".json"):
            if Path(following).exists():
                out[k] = f"--json={JSON_STDOUT}"
    return out


def write_json_output(document: Any, target: str, overwrite: bool) -> Path | None:
    """``--json``'s document: printed for ``-``, else written atomically to the file; returns the file."""
    import json

    from opnet.fileio import atomic_output

    text = json.dumps(document, indent=2, allow_nan=False)
    if target == JSON_STDOUT:
        print(text)
        return None
    with atomic_output(target, overwrite) as tmp:
        tmp.write_text(text + "\n")
    return Path(target)


def add_verbose_option(parser: argparse.ArgumentParser) -> None:
    """``-v/--verbose`` on ``parser`` and every parser below it (``opnet CMD ... -v`` = ``opnet -v CMD ...``).

    Unset unless given (``argparse.SUPPRESS``), so that a subcommand does not reset ``opnet -v``.
    """
    if "-v" not in parser._option_string_actions:
        parser.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="more log output"
        )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                add_verbose_option(child)


def model_cache_dir() -> Path:
    """Where downloaded models are kept: ``$XDG_CACHE_HOME/opnet``, default ``~/.cache/opnet``."""
    from opnet.prepare.cache import cache_dir_from_env

    return cache_dir_from_env(os.environ)
