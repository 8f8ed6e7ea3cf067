"""Progress of the command line's long work, on stderr (tqdm).

On a terminal one live line (tqdm) shows the elapsed time and what is being
done: the stage, a count, or for a solve the best plan, the proven bound and
the gap. When stderr is not a terminal (a log, a pipe, CI), plain lines are
written instead, one per stage and one every few seconds, never a carriage
return. Work that ends within :data:`DELAY` seconds shows nothing but its
last line, and nothing at all when it fails, so a refused input stays one
error line. ``quiet`` writes nothing. The results themselves stay on stdout.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

__all__ = ["DELAY", "CliProgress", "solve_text"]

#: Seconds of work before progress shows (quick commands and refusals stay quiet).
DELAY = 2.0


def _number(x: float) -> str:
    return f"{x:,.1f}" if abs(x) < 1e6 else f"{x:,.0f}"


def solve_text(snapshot: dict[str, float | None], unit: str = "") -> str:
    """A solve's state in words: best plan, proven bound and gap.

    Examples
    --------
    >>> solve_text({"objective": None, "bound": None, "gap": None})
    'looking for a first plan'
    >>> solve_text({"objective": 1234.5, "bound": 1200.0, "gap": 0.0279}, "km")
    'best plan 1,234.5 km, bound 1,200.0 km, gap 2.79%'
    """
    objective, bound, gap = (snapshot.get(k) for k in ("objective", "bound", "gap"))
    suffix = f" {unit}" if unit else ""
    parts = []
    if objective is None:
        parts.append("looking for a first plan")
    else:
        parts.append(f"best plan {_number(objective)}{suffix}")
    if bound is not None:
        parts.append(f"bound {_number(bound)}{suffix}")
    if gap is not None:
        parts.append(f"gap {gap:.2%}")
    return ", ".join(parts)


def _columns(stream: IO[str]) -> int:
    """Width of the terminal behind ``stream`` (100 when it says 0 or nothing:
    a pseudo-terminal without a size would make tqdm print an empty line)."""
    import os

    try:
        width = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        width = 0
    return width if width > 0 else 100


class CliProgress:
    """A context manager showing a command's progress on ``stream`` (stderr).

    Parameters
    ----------
    label : str
        The command, first word of every line (``optimize``, ``import``...).
    quiet : bool
        Show nothing.
    stream : file, optional
        Default ``sys.stderr``.
    every : float
        Seconds between two plain lines when ``stream`` is not a terminal.
    tick : float
        Seconds between two refreshes of the live line.
    delay : float, optional
        Seconds before anything shows (default :data:`DELAY`).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with CliProgress("demo", stream=out, delay=0) as progress:
    ...     progress.stage("generating the country")
    >>> print(out.getvalue().splitlines()[0])
    demo: generating the country
    """

    def __init__(
        self,
        label: str,
        quiet: bool = False,
        stream: IO[str] | None = None,
        every: float = 5.0,
        tick: float = 0.25,
        delay: float | None = None,
    ):
        self.label = label
        self.quiet = quiet
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(isatty and isatty()) and not quiet
        self.every = every
        self.tick = tick
        self.delay = DELAY if delay is None else delay
        self._held = False  # a stage not written yet (before the delay)
        self._failed = False
        self._text = "starting"
        self._source: Callable[[], str] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: Any = None
        self._started = time.perf_counter()

    # -- what is shown ---------------------------------------------------------

    @property
    def elapsed(self) -> float:
        """Seconds since the command started."""
        return time.perf_counter() - self._started

    def stage(self, text: str) -> None:
        """A new step of the work (a plain line at once off a terminal)."""
        with self._lock:
            self._text, self._source = text, None
        if not self.quiet and not self.live:
            if self.elapsed >= self.delay:
                self._held = False
                self._line(text)
            else:
                self._held = True
        self._refresh()

    def count(self, done: int, total: int, what: str = "") -> None:
        """``done`` of ``total`` (series, steps...) so far."""
        pct = 100.0 * done / total if total else 100.0
        text = f"{done}/{total} {what}".rstrip() + f" ({pct:.0f}%)"
        with self._lock:
            self._text, self._source = text, None
        self._refresh()

    def follow(self, source: Callable[[], str]) -> None:
        """Show ``source()`` (read on every refresh) until the next stage."""
        with self._lock:
            self._source = source

    def failed(self) -> None:
        """The work ended without its result (its errors are said elsewhere)."""
        self._failed = True

    def solve(self, progress: Any, unit: str = "") -> None:
        """Follow a :class:`optimization.solver.SolveProgress` while it runs."""
        self.stage("solving")
        self.follow(lambda: solve_text(progress.snapshot(), unit))

    # -- machinery -------------------------------------------------------------

    def _current(self) -> str:
        with self._lock:
            source, text = self._source, self._text
        if source is not None:
            try:
                return source()
            except Exception:  # a display must never break the work
                return text
        return text

    def _line(self, text: str) -> None:
        print(f"{self.label}: {text}", file=self.stream, flush=True)

    def _refresh(self) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(self._current(), refresh=True)

    def _show_bar(self) -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=None,
            desc=self.label,
            file=self.stream,
            bar_format="{desc}: {elapsed}{postfix}",
            leave=False,
            ncols=_columns(self.stream),
        )
        # elapsed counts from the command's start, not from the delay
        self._bar.start_t -= self.elapsed
        self._refresh()

    def _run(self) -> None:
        last = time.perf_counter()
        wait = self.tick if self.live else min(self.every, self.tick)
        while not self._stop.wait(wait):
            if self.elapsed < self.delay:
                continue
            if self.live:
                if self._bar is None:
                    self._show_bar()
                self._refresh()
            elif self._held:
                self._held = False
                last = time.perf_counter()
                self._line(self._current())
            elif time.perf_counter() - last >= self.every:
                last = time.perf_counter()
                self._line(f"{self.elapsed:.0f} s, {self._current()}")

    def __enter__(self) -> CliProgress:
        self._started = time.perf_counter()
        if self.quiet:
            return self
        if self.live and self.delay <= 0:
            self._show_bar()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._bar is not None:
            self._bar.close()
        failed = kind is not None or self._failed
        if self.quiet or (failed and self.elapsed < self.delay):
            return
        last = self._current() if self._source is not None else ""
        outcome = "stopped" if failed else "done"
        tail = f" ({last})" if last else ""
        self._line(f"{outcome} in {self.elapsed:.1f} s{tail}")
