"""``opnet inspect FILE.h5``: the layout and label statistics of a dataset file."""

from __future__ import annotations

import argparse

from opnet.cli.common import add_json_option


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "inspect", help="print the layout and label statistics of a dataset file", description=__doc__
    )
    p.add_argument("file", help="dataset file (.h5)")
    add_json_option(p, "the statistics")
    p.add_argument("--force", action="store_true", help="overwrite the --json file if it exists")
    return p


def run(args: argparse.Namespace) -> int:
    from opnet.cli.common import write_json_output
    from opnet.data import open_dataset
    from opnet.data.summary import format_report, label_statistics

    with open_dataset(args.file, require_images=False) as ds:
        stats = label_statistics(ds)
        if args.json != "-":
            print(format_report(args.file, ds, stats))
        if args.json:
            write_json_output(stats, args.json, args.force)
    return 0
