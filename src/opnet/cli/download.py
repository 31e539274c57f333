"""``opnet download NAME...``: fetch released models into the cache, or raw datasets (resumable, checked).

Models (OpenTrack's pose models and face localizer) go into the user cache,
$XDG_CACHE_HOME/opnet (default ~/.cache/opnet), where predict and track find them by name; datasets
go into --outdir, or say how to get them by hand. The licence is printed first: each entry has its
own terms, most of them non-commercial or research use only. --mirror URL fetches the same file
names from another base URL (an offline mirror).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from opnet.cli.common import add_json_option

if TYPE_CHECKING:
    from opnet.prepare.download import Remote


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "download",
        help="download released models (into the cache) or raw datasets",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="model or dataset names; see --list")
    p.add_argument(
        "--outdir",
        type=Path,
        metavar="DIR",
        help="folder to save into (default: the cache for models, the current folder for datasets)",
    )
    p.add_argument("--mirror", metavar="URL", help="fetch the same file names from this base URL instead")
    p.add_argument("--list", action="store_true", help="list the known models and datasets and exit")
    add_json_option(p, "--list")
    p.add_argument("--force", action="store_true", help="download again even if the file is there")
    return p


def _describe(remote: Remote) -> str:
    lines = [f"{remote.title}", f"  licence: {remote.licence}", f"  homepage: {remote.homepage}"]
    if remote.manual:
        lines.append(f"  by hand: {remote.manual}")
    if remote.urls and not remote.verified:
        lines.append("  checksum: none known; the download is NOT verified (its size only, if announced)")
    lines.append(f"  then: {remote.prepare}")
    return "\n".join(lines)


def _listing(cache: Path) -> str:
    from opnet.prepare.cache import cached_file
    from opnet.prepare.download import CATALOG

    groups = {
        "model": f"Models (downloads go into {cache}):",
        "dataset": "Datasets (into --outdir, default here):",
    }
    lines: list[str] = []
    for kind, header in groups.items():
        lines += [""] * bool(lines) + [header]
        for name, remote in CATALOG.items():
            if remote.kind != kind:
                continue
            how = "download" if remote.urls else "by hand"
            state = "cached" if kind == "model" and cached_file(remote, cache) else ""
            check = "" if remote.verified or not remote.urls else "unverified"
            lines.append(f"  {name:26s} {how:9s} {check:10s} {state:6s} {remote.title}".rstrip())
    return "\n".join(lines)


def _entries_json(cache: Path) -> dict[str, object]:
    from opnet.prepare.cache import cached_file
    from opnet.prepare.download import CATALOG

    fields = (
        "kind",
        "title",
        "filename",
        "licence",
        "homepage",
        "prepare",
        "urls",
        "size",
        "sha256",
        "manual",
    )
    entries = []
    for name, remote in CATALOG.items():
        cached = cached_file(remote, cache) if remote.kind == "model" else None
        entry = {"name": name, **{k: getattr(remote, k) for k in fields}, "verified": remote.verified}
        entries.append({**entry, "cached": None if cached is None else str(cached)})
    return {"cache": str(cache), "entries": entries}


def _fetch(remote: Remote, args: argparse.Namespace, cache: Path) -> Path:
    from opnet.prepare.cache import fetch_model
    from opnet.prepare.download import download

    if remote.kind == "model" and args.outdir is None:
        return fetch_model(remote, cache, args.mirror, force=args.force, progress=True)
    folder = args.outdir or Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    return download(remote, folder, force=args.force, progress=True, mirror=args.mirror)


def run(args: argparse.Namespace) -> int:
    from opnet.cli.common import model_cache_dir, write_json_output
    from opnet.errors import OpNetError
    from opnet.prepare.download import CATALOG, file_sha256

    cache = model_cache_dir()
    if args.json and not args.list:
        raise OpNetError("--json goes with --list")
    if args.json:
        write_json_output(_entries_json(cache), args.json, args.force)
        return 0
    if args.list or not args.names:
        print(_listing(cache))
        return 0
    unknown = [n for n in args.names if n not in CATALOG]
    if unknown:
        raise OpNetError(f"download {' '.join(unknown)}: unknown; known: {', '.join(CATALOG)}")
    status = 0
    for name in args.names:
        remote = CATALOG[name]
        print(_describe(remote))
        if not remote.urls and not args.mirror:
            status = 1
            continue
        path = _fetch(remote, args, cache)
        print(f"saved {path} (sha256 {file_sha256(path)}{'' if remote.verified else ', unverified'})")
    return status
