"""Progress bars that vanish when the work fails, so that the error is the one line left on the screen."""

from __future__ import annotations

from types import TracebackType

from tqdm import tqdm


class ProgressBar(tqdm):
    """A ``tqdm`` bar for ``with`` blocks: kept when the block succeeds, cleared when it raises."""

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.leave = False
        super().__exit__(exc_type, exc, tb)
