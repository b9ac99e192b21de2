"""The command line's progress bar (``kith keys rotate``, ``kith export`` ...), drawn on stderr."""

from __future__ import annotations

import sys
import time


def bar(label: str, done: int, total: int | None, *, started: float | None = None) -> None:
    """Redraw ``label [#####.....] done/total`` (with the time left once there is a rate to go by)."""
    width = 30
    if total:
        filled = width * min(done, total) // max(1, total)
        line = f"\r{label:<20} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}"
        if started is not None and 0 < done < total:
            elapsed = time.monotonic() - started
            line += f"  ~{int(elapsed / done * (total - done))} s left "
    else:
        line = f"\r{label:<20} {done:,}"
    sys.stderr.write(line)
    if total is not None and done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()
