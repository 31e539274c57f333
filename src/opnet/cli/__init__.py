"""The ``opnet`` command. Each subcommand is a module here with ``add_parser`` and ``run``.

Subcommand modules import heavy libraries inside ``run`` so that ``opnet --help`` stays fast.
Only this package reads environment variables (``DATADIR``, ``NUM_WORKERS``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from opnet import __version__
from opnet.errors import OpNetError

SUBCOMMANDS = (
    "inspect",
    "show",
    "synth",
    "prepare",
    "join",
    "filter",
    "split",
    "download",
    "train",
    "evaluate",
    "export",
    "convert",
    "predict",
    "track",
    "augment3d",
    "pseudolabel",
    "demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opnet", description="Head-pose datasets, networks, evaluation and export for OpenTrack."
    )
    parser.add_argument("--version", action="version", version=f"opnet {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="more log output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"opnet.cli.{name.replace('-', '_')}")
        sub_parser = module.add_parser(sub)
        sub_parser.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    try:
        return int(args.run(args) or 0)
    except OpNetError as e:
        print(f"opnet {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"opnet {args.command}: interrupted", file=sys.stderr)
        return 130
