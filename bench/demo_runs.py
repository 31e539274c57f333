"""``opnet demo`` with its defaults for several budgets and seeds: one table of the results.

Run from the repository root (the demo evaluates ../shared/data/aflw2kmini.h5 when it is there):
``PYTHONPATH=src python bench/demo_runs.py --outdir /tmp/runs --minutes 9 20 40 --seeds 0``
or ``... --minutes 9 --seeds 0 1 2``.

Each (minutes, seed) pair runs ``opnet demo --minutes M --seed S`` into OUTDIR/mM-sS (a run
already there with a report is read, not repeated: delete its folder to run it again), one after
the other. Run it on an otherwise quiet machine: the demo sizes its training to the time it has,
so other work changes the results. The table (markdown) is printed at the end and written to
OUTDIR/table.md; when OUTDIR holds runs of several budgets, OUTDIR/minutes.png plots the errors
against the minutes (the runs of every folder OUTDIR/m*-s*/ with a report, so that runs made
separately plot together).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path


def run(outdir: Path, minutes: float, seed: int, flags: list[str]) -> dict:
    """The metrics.json of ``opnet demo --minutes minutes --seed seed`` in ``outdir`` (run if missing)."""
    metrics = outdir / "report" / "metrics.json"
    if not metrics.is_file():
        command = [sys.executable, "-m", "opnet", "demo", "--outdir", str(outdir), "--force"]
        command += ["--minutes", f"{minutes:g}", "--seed", str(seed), *flags]
        print(f"load average {os.getloadavg()[0]:.2f}: {' '.join(command[1:])}", flush=True)
        subprocess.run(command, check=True)
    return json.loads(metrics.read_text())


def row(minutes: float, seed: int, m: dict) -> str:
    t, mae = m["training"], m["mean_mae_deg"]
    real = m["evaluations"]["real_faces"]
    real_cells = "- | -"
    if real is not None:
        metrics = real["results"][0]["metrics"]
        real_cells = f"{metrics['mean_deg']:.2f} | {metrics['geodesic_deg']:.2f}"
    heads = m["settings"]["demo"]["train_samples"]
    return (
        f"| {minutes:g} | {seed} | {m['seconds']['total'] / 60:.1f} | {heads} "
        f"| {t['epochs_completed']} | {t['images_per_s']:.0f} | {mae['synthetic']:.2f} | {real_cells} "
        f"| {m['machine']['load_average'][0]:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outdir", type=Path, required=True)
    parser.add_argument("--minutes", type=float, nargs="+", default=[9.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("demo_flags", nargs="*", help="more flags for opnet demo (after --)")
    args = parser.parse_args()
    lines = [
        "| minutes | seed | wall min | training heads | epochs | images/s | held-out synthetic Mean° "
        "| real faces Mean° | real faces Geodesic° | load |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    real_means = []
    for minutes in args.minutes:
        for seed in args.seeds:
            m = run(args.outdir / f"m{minutes:g}-s{seed}", minutes, seed, args.demo_flags)
            lines.append(row(minutes, seed, m))
            if m["mean_mae_deg"]["real_faces"] is not None:
                real_means.append(m["mean_mae_deg"]["real_faces"])
            print(lines[-1], flush=True)
    text = "\n".join(lines)
    if len(real_means) > 1:
        spread = statistics.stdev(real_means)
        text += f"\n\nreal faces Mean° over the runs: {statistics.mean(real_means):.2f} +- {spread:.2f} (sd)"
    print(text)
    (args.outdir / "table.md").write_text(text + "\n")
    plot_minutes(args.outdir)


def plot_minutes(outdir: Path) -> None:
    """OUTDIR/minutes.png: held-out synthetic and real-face mean MAE against the budget, one dot per
    run of OUTDIR/m*-s*/; nothing when the runs there have fewer than two budgets."""
    runs = [json.loads(f.read_text()) for f in sorted(outdir.glob("m*-s*/report/metrics.json"))]
    if len({m["settings"]["demo"]["minutes"] for m in runs}) < 2:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=120)
    for key, label, colour in (
        ("synthetic", "held-out synthetic heads", "tab:blue"),
        ("real_faces", "real faces (16)", "tab:red"),
    ):
        points = [
            (m["settings"]["demo"]["minutes"], m["mean_mae_deg"][key])
            for m in runs
            if m["mean_mae_deg"][key] is not None
        ]
        if points:
            xs, ys = zip(*sorted(points), strict=True)
            ax.plot(xs, ys, "o", color=colour, label=label)
    ax.set_xlabel("--minutes (budget of the whole demo)")
    ax.set_ylabel("mean MAE (degrees)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("opnet demo: error against time (2 CPU cores)")
    fig.tight_layout()
    fig.savefig(outdir / "minutes.png")
    print(f"wrote {outdir / 'minutes.png'}")


if __name__ == "__main__":
    main()
