"""Per-stage latency statistics of the tracking loop (milliseconds; mean, median, 95th percentile)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StageStats:
    """Latency of one stage over the frames it ran on, in milliseconds."""

    stage: str
    count: int
    mean_ms: float
    p50_ms: float
    p95_ms: float


class StageTimer:
    """Collects durations (seconds) per stage name, in the order stages first appear."""

    def __init__(self) -> None:
        self._samples: dict[str, list[float]] = defaultdict(list)

    def add(self, stage: str, seconds: float | None) -> None:
        """Records one duration; None (the stage did not run) is ignored."""
        if seconds is not None:
            self._samples[stage].append(seconds)

    def stats(self) -> list[StageStats]:
        out = []
        for stage, values in self._samples.items():
            ms = np.asarray(values) * 1e3
            out.append(
                StageStats(
                    stage,
                    len(ms),
                    float(ms.mean()),
                    float(np.percentile(ms, 50)),
                    float(np.percentile(ms, 95)),
                )
            )
        return out


def stats_table(stats: list[StageStats]) -> str:
    """A markdown table of stage latencies."""
    lines = ["| stage | frames | mean ms | p50 ms | p95 ms |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {s.stage} | {s.count} | {s.mean_ms:.2f} | {s.p50_ms:.2f} | {s.p95_ms:.2f} |" for s in stats]
    return "\n".join(lines)
