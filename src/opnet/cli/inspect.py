"""``opnet inspect FILE.h5``: the layout and label statistics of a dataset file."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "inspect", help="print the layout and label statistics of a dataset file", description=__doc__
    )
    p.add_argument("file", help="dataset file (.h5)")
    p.add_argument("--json", action="store_true", help="print the statistics as JSON instead")
    return p


def run(args: argparse.Namespace) -> int:
    from opnet.data import open_dataset
    from opnet.data.summary import format_report, label_statistics

    with open_dataset(args.file, require_images=False) as ds:
        stats = label_statistics(ds)
        print(json.dumps(stats, indent=2) if args.json else format_report(args.file, ds, stats))
    return 0
