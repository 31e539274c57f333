"""``opnet demo`` on a busy machine: one core kept busy by another process for the first minutes.

Run from the repository root (the demo evaluates ../shared/data/aflw2kmini.h5 when it is there):
``PYTHONPATH=src python bench/demo_busy.py --outdir /tmp/busy [--busy-minutes 4] [-- DEMO FLAGS]``

Starts a process that spins on one core, runs ``opnet demo`` (with the flags after ``--``), stops
the spinning process after ``--busy-minutes`` (if the demo is still running), and prints the
demo's own summary, its wall time and the load average. With the default budget the demo should
still end within 11 minutes with a held-out synthetic mean MAE of at most 6 degrees. Run it on an
otherwise quiet machine: other work makes the machine busier than this test means.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

SPIN = "while True:\n    pass\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outdir", type=Path, required=True, help="the demo's folder (replaced)")
    parser.add_argument("--busy-minutes", type=float, default=4.0)
    parser.add_argument("demo_flags", nargs="*", help="more flags for opnet demo (after --)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    spinner = subprocess.Popen([sys.executable, "-c", SPIN])
    start = time.monotonic()
    demo = subprocess.Popen(
        [sys.executable, "-m", "opnet", "demo", "--outdir", str(args.outdir), "--force", *args.demo_flags]
    )
    try:
        while demo.poll() is None:
            if spinner.poll() is None and time.monotonic() - start > 60.0 * args.busy_minutes:
                spinner.terminate()
                print(f"(the busy process stopped after {args.busy_minutes:g} min)", flush=True)
            time.sleep(1.0)
    finally:
        if spinner.poll() is None:
            spinner.terminate()
        spinner.wait()
    wall = time.monotonic() - start
    metrics = json.loads((args.outdir / "report" / "metrics.json").read_text())
    training, mae = metrics["training"], metrics["mean_mae_deg"]
    real = "none" if mae["real_faces"] is None else f"{mae['real_faces']:.2f} deg"
    print(
        f"busy for the first {args.busy_minutes:g} min: the demo took {wall / 60:.1f} min; planned "
        f"{training['epochs_planned']} epochs at the start, trained {training['epochs_completed']}; "
        f"held-out synthetic mean MAE {mae['synthetic']:.2f} deg, real faces {real}"
    )
    print(f"load average {os.getloadavg()[0]:.2f} at the end (exit status {demo.returncode})")


if __name__ == "__main__":
    main()
