"""One set of flags across every subcommand (whatever subcommands exist): the rules, and ``--help``."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator

import pytest

from opnet.cli import build_parser, main
from opnet.cli.common import json_flag_argv

FOLDER_METAVARS = {"DIR", "FOLDER", "OUTDIR", "DIRECTORY"}
FOLDER_HELP = re.compile(
    r"\b(folder|directory) (to|for)\b|\binto (a |the )?(folder|directory|DIR)\b", re.IGNORECASE
)
OUTPUT_FOLDER_NAMES = {"--output-dir", "--out-dir", "--output-folder", "--out-folder", "--outfolder", "--out"}
BATCH_SIZE_NAME = re.compile(r"^--.*batch.?size$")


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every (sub)command path below ``parser``, e.g. ('prepare', 'aflw2k3d'); aliases once."""
    seen: set[int] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                if id(child) not in seen:
                    seen.add(id(child))
                    yield (*path, name)
                    yield from walk(child, (*path, name))


def parser_at(path: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


COMMANDS = list(walk(build_parser()))


def test_every_subcommand_is_walked():
    names = {path[0] for path in COMMANDS}
    assert {"predict", "track", "train", "evaluate", "download", "inspect"} <= names
    assert ("prepare", "aflw2k3d") in COMMANDS  # nested subcommands too


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_help_of_every_subcommand(path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*path, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: opnet {' '.join(path)}")


def _check_option(action: argparse.Action) -> list[str]:
    """The flag rules this option breaks (an empty list if none)."""
    names, broken = set(action.option_strings), []
    if "-o" in names and "--output" not in names:
        broken.append("-o must be -o/--output")
    if "--output" in names and (action.metavar in FOLDER_METAVARS or FOLDER_HELP.search(action.help or "")):
        broken.append("-o/--output must be a file (a folder is --outdir)")
    if names & OUTPUT_FOLDER_NAMES:
        broken.append("an output folder is --outdir")
    if "--outdir" in names and (action.metavar != "DIR" or "folder" not in (action.help or "")):
        broken.append("--outdir must be a folder (metavar DIR, 'folder' in its help)")
    if "--json" in names and (action.nargs != "?" or action.const != "-"):
        broken.append("--json takes an optional FILE (--json [FILE], stdout without one)")
    if any(BATCH_SIZE_NAME.match(n) for n in names) and "--batch-size" not in names:
        broken.append("a batch size is --batch-size (--batchsize only as an alias)")
    if "--roi-override" in names and "--roi" not in names:
        broken.append("the face-box choice is --roi (--roi-override only as an alias)")
    if "-v" in names and action.dest != "verbose":
        broken.append("-v means --verbose")
    return [f"{'/'.join(action.option_strings)}: {b}" for b in broken]


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_flags_follow_the_rules(path):
    parser = parser_at(path)
    broken = [b for action in parser._actions if action.option_strings for b in _check_option(action)]
    assert not broken, f"opnet {' '.join(path)}: " + "; ".join(broken)
    assert parser._option_string_actions["-v"].dest == "verbose"


def test_verbose_before_or_after_the_subcommand(tmp_path):
    parse = build_parser().parse_args
    assert parse(["-v", "inspect", "x.h5"]).verbose and parse(["inspect", "x.h5", "-v"]).verbose
    assert not parse(["inspect", "x.h5"]).verbose
    zip_file = tmp_path / "a.zip"
    zip_file.write_bytes(b"")
    assert parse(["prepare", "aflw2k3d", str(zip_file), "out.h5", "--verbose"]).verbose


def test_the_seed_training_command_and_aliases_parse():
    seed = (
        "train --lr 1e-3 --epochs 1500 --ds repro_300_wlp+lapa_megaface_lp:20000+wflw_lp "
        "--save-plot train.pdf "
        "--with-swa --with-nll-loss --backbone mobilenetv1 --no-onnx --roi-override original --no-blurpool "
        "--outdir OUT --batchsize 32"
    )
    args = vars(build_parser().parse_args(seed.split()))
    assert args["cfg.augment.roi_mode"] == "original" and args["cfg.batch_size"] == 32
    assert args["cfg.model.blurpool"] is False and args["cfg.epochs"] == 1500
    new = vars(build_parser().parse_args(["train", "--roi", "landmarks", "--batch-size", "8"]))
    assert new["cfg.augment.roi_mode"] == "landmarks" and new["cfg.batch_size"] == 8
    show = build_parser().parse_args(["show", "x.h5", "--augmented", "--roi-override", "landmarks"])
    assert show.roi == "landmarks"


def test_json_goes_to_stdout_or_a_file(small_dataset, tmp_path, capsys):
    assert main(["inspect", "--json", str(small_dataset)]) == 0  # an input after --json is not its FILE
    assert json.loads(capsys.readouterr().out)["samples"] == 12
    out = tmp_path / "stats.json"
    assert main(["inspect", str(small_dataset), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "samples: 12" in printed and json.loads(out.read_text())["samples"] == 12
    assert main(["inspect", str(small_dataset), "--json", str(out)]) == 2  # not overwritten without --force
    assert "already exists; pass --force" in capsys.readouterr().err


def test_json_flag_keeps_inputs_for_the_positionals(tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"")
    assert json_flag_argv(["predict", "--json", str(photo)]) == ["predict", "--json=-", str(photo)]
    kept = ["evaluate", "m.onnx", "--json", str(tmp_path / "new.txt"), "--json", "-"]
    assert json_flag_argv(kept) == kept
