"""The progress bar that long runs show on stderr: documents done, documents/s, the ETA."""

from __future__ import annotations

import time
from typing import Any

REDRAW_S = 0.1  # rich's own refresh rate (10 a second)


class ProgressBar:
    """A rich progress bar on stderr: documents done, documents/s, and the ETA when known."""

    def __init__(self, total: int | None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class RateColumn(ProgressColumn):
            def render(self, task: Any) -> Text:
                return Text(f"{task.speed or 0:,.0f} docs/s")

        # No refresh thread (auto_refresh=False; advance redraws): --jobs forks its workers
        # while the bar is up, and a thread holding a lock (stderr's, say) at that moment would
        # leave the lock held forever in every worker.
        self.progress = Progress(BarColumn(), MofNCompleteColumn(), RateColumn(),
                                 TimeElapsedColumn(), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=True, auto_refresh=False)
        self.task = self.progress.add_task("cleaning", total=total)
        self.next_redraw = 0.0

    def __enter__(self) -> ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def advance(self) -> None:
        """Count one more document done, redrawing the bar at most REDRAW_S apart."""
        self.progress.advance(self.task)
        now = time.monotonic()
        if now >= self.next_redraw:
            self.next_redraw = now + REDRAW_S
            self.progress.refresh()

    def say(self, line: str) -> None:
        """Print one line above the bar."""
        self.progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
