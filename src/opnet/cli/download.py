"""``opnet download NAME``: fetch a raw dataset (resumable, checked), or say where to get it by hand.

The licence is printed first: each dataset has its own terms, most of them research use only.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from opnet.cli.common import add_json_option

if TYPE_CHECKING:
    from opnet.prepare.download import Remote


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("download", help="download a raw dataset (or show how to get it)", description=__doc__)
    p.add_argument("name", nargs="?", help="dataset name; see --list")
    p.add_argument(
        "--outdir", type=Path, default=Path("."), metavar="DIR", help="folder to save into (default: here)"
    )
    p.add_argument("--list", action="store_true", help="list the known datasets and exit")
    add_json_option(p, "--list")
    p.add_argument("--force", action="store_true", help="download again even if the file exists")
    return p


def _describe(remote: Remote) -> str:
    lines = [f"{remote.title}", f"  licence: {remote.licence}", f"  homepage: {remote.homepage}"]
    if remote.manual:
        lines.append(f"  by hand: {remote.manual}")
    lines.append(f"  then: {remote.prepare}")
    return "\n".join(lines)


def _fields(remote: Remote) -> dict[str, object]:
    keys = ("title", "filename", "licence", "homepage", "prepare", "urls", "size", "sha256", "manual")
    return {k: getattr(remote, k) for k in keys}


def run(args: argparse.Namespace) -> int:
    from opnet.cli.common import write_json_output
    from opnet.errors import OpNetError
    from opnet.prepare.download import DATASETS, download, file_sha256

    if args.json and not args.list:
        raise OpNetError("--json goes with --list")
    if args.json:
        document = [{"name": n, "downloadable": bool(r.urls), **_fields(r)} for n, r in DATASETS.items()]
        write_json_output({"datasets": document}, args.json, args.force)
        return 0
    if args.list or args.name is None:
        for name, remote in DATASETS.items():
            how = "download" if remote.urls else "by hand"
            print(f"{name:14s} {how:9s} {remote.title}")
        return 0
    remote = DATASETS.get(args.name)
    if remote is None:
        raise OpNetError(f"download {args.name}: unknown dataset; known: {', '.join(DATASETS)}")
    print(_describe(remote))
    if not remote.urls:
        return 1
    path = download(remote, args.outdir, force=args.force, progress=True)
    print(f"saved {path} (sha256 {file_sha256(path)})")
    return 0
