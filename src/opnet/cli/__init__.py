"""The ``opnet`` command. Each subcommand is a module here with ``add_parser`` and ``run``.

Subcommand modules import heavy libraries inside ``run`` so that ``opnet --help`` stays fast.
Only this package reads environment variables (``DATADIR``, ``NUM_WORKERS``).
Flags follow one set of rules across subcommands (tests/test_cli_flags.py checks them): ``-o/--output``
is a file, ``--outdir`` a folder, ``--json [FILE]`` prints without a file, ``--batch-size``, ``--roi``
for the face-box choice, and ``-v/--verbose`` after any subcommand as well as before it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from opnet import __version__
from opnet.cli.common import add_verbose_option, json_flag_argv
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
        add_verbose_option(sub_parser)
    return parser


def os_error_text(error: OSError) -> str:
    """One line for an error of the operating system: the file(s) it concerns and the reason."""
    names = [str(n) for n in (error.filename, error.filename2) if n is not None]
    reason = error.strerror or str(error)
    return f"{' -> '.join(names)}: {reason}" if names else " ".join(reason.split())


def main(argv: list[str] | None = None) -> int:
    # onnxruntime otherwise writes a device id and a database into ~/.cache/Microsoft (read on import);
    # FFmpeg otherwise prints its own complaints about a video before OpNet's one line
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    args = build_parser().parse_args(json_flag_argv(sys.argv[1:] if argv is None else argv))
    # OpNet's own notes at INFO; other libraries' only from WARNING on, unless -v
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(message)s")
    logging.getLogger("opnet").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    try:
        return int(args.run(args) or 0)
    except OpNetError as e:
        print(f"opnet {args.command}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # the machine refused: permissions, a read-only or full disk, a missing folder
        if args.verbose:
            raise
        print(f"opnet {args.command}: error: {os_error_text(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"opnet {args.command}: interrupted", file=sys.stderr)
        return 130
