"""Progress of long runs: one display per section and per long fit, and nothing printed through it.

Three parts, one job each:

* inside a running step, :func:`status` says what it is doing now ("sampling season='LGS' (2/4)"),
  and :func:`sampler_bars` says whether a sampler may draw its own progress bar here (in the main
  process on a terminal or in a notebook; never inside a section of ``pcstats reproduce``);
* :func:`section` runs one section of the reproduction with everything it would print (``print``,
  PyMC's "Sampling: [y]", PyTensor's and ArviZ's log records, tqdm bars) sent as events to the
  display instead of the terminal; in a worker process the events travel through a queue;
* :class:`Display` shows the events in the parent: on a terminal a bar over the sections and one
  status line per running section; elsewhere one plain line per finished section; nothing when quiet.
  ``verbose`` adds a line per status (each fit), the warnings as they come and what was printed.

Examples
--------
>>> events = []
>>> with section("demo", lambda *event: events.append(event)):
...     status("fitting demo.toml")
...     print("captured, not shown")
>>> [(kind, text) for _, kind, _, text in events]
[('start', ''), ('status', 'fitting demo.toml'), ('output', 'captured, not shown')]
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Literal

__all__ = ["BACKENDS", "Display", "Mode", "backends_quiet", "sampler_bars", "section", "status"]

#: loggers of the backends whose INFO lines ("Sampling: [y]", "Auto-assigning NUTS sampler...") would
#: otherwise print through a progress display
BACKENDS = ("pymc", "pytensor", "arviz", "nutpie", "numba", "semopy")
#: an event: (section, kind, logging level, text); kinds: start, status, log, output
Send = Callable[[str, str, int, str], None]
Mode = Literal["bars", "lines", "none"]

_log = logging.getLogger("pcstats")
_SEND: Callable[[str, int, str], None] | None = None  # set inside section(): (kind, level, text) to the display


def status(text: str) -> None:
    """Say what the running step is doing now.

    Inside a section of ``pcstats reproduce`` this becomes the section's status line (and, with
    ``--verbose``, a line of its own); elsewhere it is an INFO record of the ``pcstats`` logger.
    """
    if _SEND is not None:
        _SEND("status", logging.INFO, text)
    else:
        _log.info(text)


def sampler_bars() -> bool:
    """Whether a sampler may draw its own progress bar: on a terminal or in a notebook, outside sections."""
    if _SEND is not None:
        return False
    if "ipykernel" in sys.modules:
        return True
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


@contextlib.contextmanager
def backends_quiet(verbose: bool = False) -> Iterator[None]:
    """The backends log only warnings (and INFO lines too when ``verbose``) while the block runs."""
    level = logging.INFO if verbose else logging.WARNING
    loggers = [logging.getLogger(name) for name in BACKENDS]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, old in zip(loggers, before):
            lg.setLevel(old)


class _Handler(logging.Handler):
    def __init__(self, send: Callable[[str, int, str], None]):
        super().__init__()
        self.send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is not worth a crash
            text = str(record.msg)
        self.send("log", record.levelno, f"{record.name}: {text}" if record.name.split(".")[0] != "pcstats" else text)


class _Lines(io.TextIOBase):
    """A text stream that sends each complete line it is given as an ``output`` event."""

    def __init__(self, send: Callable[[str, int, str], None]):
        self.send, self.pending = send, ""

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text.replace("\r", "\n")).split("\n")
        for line in lines:
            if line.strip():
                self.send("output", logging.INFO, line.rstrip())
        return len(text)

    def flush(self) -> None:
        pass


@contextlib.contextmanager
def section(name: str, send: Send, verbose: bool = False) -> Iterator[None]:
    """Run a block as section ``name``: its status lines, log records and prints become events for ``send``.

    The ``pcstats`` logger and the :data:`BACKENDS`' loggers send their records (warnings; INFO too
    when ``verbose``) instead of printing them; ``sys.stdout``/``sys.stderr`` are lines sent as
    ``output`` events; Python warnings that escape the section's fits are ``log`` events; tqdm bars see
    no terminal and stay off; samplers draw no bar of their own.
    """
    global _SEND

    def to_display(kind: str, level: int, text: str) -> None:
        send(name, kind, level, text)

    handler = _Handler(to_display)
    handler.setLevel(logging.INFO if verbose else logging.WARNING)
    loggers = [logging.getLogger(n) for n in ("pcstats", *BACKENDS)]
    saved = [(lg.handlers[:], lg.propagate, lg.level) for lg in loggers]
    previous, lines = _SEND, _Lines(to_display)
    for lg in loggers:
        lg.handlers, lg.propagate = [handler], False
        lg.setLevel(logging.INFO if verbose or lg.name == "pcstats" else logging.WARNING)
    _SEND = to_display
    try:
        to_display("start", logging.INFO, "")
        with contextlib.redirect_stdout(lines), contextlib.redirect_stderr(lines), warnings.catch_warnings():
            warnings.showwarning = lambda message, category, *_, **__: to_display(
                "log", logging.WARNING, f"{category.__name__}: {message}")
            yield
    finally:
        lines.write("\n")
        _SEND = previous
        for lg, (handlers, propagate, level) in zip(loggers, saved):
            lg.handlers, lg.propagate = handlers, propagate
            lg.setLevel(level)


class Display:
    """What the parent shows of running sections.

    ``mode``: ``"bars"`` (a bar over the sections and a status line per running section; for
    terminals), ``"lines"`` (one plain line per finished section; for pipes and files) or
    ``"none"``. ``verbose`` adds each status (per fit), warnings as they come and captured prints.
    """

    def __init__(self, names: Sequence[str], mode: Mode, verbose: bool = False, file=None, title: str = "reproduce"):
        self.names, self.mode, self.verbose, self.title = list(names), mode, verbose, title
        self.file = file if file is not None else sys.stderr
        self.finished: list[str] = []
        self.running: dict[str, tuple[object, float, int]] = {}  # name -> (bar or None, start time, slot)
        self.total = None
        self.lock = threading.Lock()  # the ticking thread redraws while sections start and finish
        if mode == "bars":
            from tqdm.auto import tqdm

            self._tqdm = tqdm
            self.width, self.height = _size(self.file, len(self.names) + 2)
            self.total = tqdm(total=len(self.names), desc=title, unit="section", file=self.file, position=0,
                              ncols=self.width, nrows=self.height, bar_format="{desc}: {n_fmt}/{total_fmt} sections |{bar}| {elapsed}")

    def line(self, text: str) -> None:
        """A line above the bars (or on its own)."""
        if self.mode == "none":
            return
        if self.mode == "bars":
            self._tqdm.write(text, file=self.file)
        else:
            print(text, file=self.file, flush=True)

    def event(self, name: str, kind: str, level: int, text: str) -> None:
        """Show one event of section ``name`` (see :func:`section`)."""
        if level >= logging.ERROR and kind == "log":
            print(f"{self.title}: {name}: {text}", file=self.file, flush=True)  # errors always
            return
        if kind == "start":
            self._start(name)
        elif kind == "status":
            running = self.running.get(name)
            if running and running[0] is not None:
                running[0].set_description_str(f"  {name}: {text}", refresh=True)
            if self.verbose:
                self.line(f"{self.title}: {name}: {text}")
        elif self.verbose:  # log records and captured prints
            prefix = "warning: " if kind == "log" and level >= logging.WARNING else ""
            self.line(f"{self.title}: {name}: {prefix}{text}")

    def _start(self, name: str) -> None:
        if name in self.running or name in self.finished:
            return
        bar = None
        slot = min(set(range(1, len(self.names) + 1)) - {s for _, _, s in self.running.values()})
        if self.mode == "bars":
            bar = self._tqdm(total=None, desc=f"  {name}: running", file=self.file, position=slot, leave=False,
                             ncols=self.width, nrows=self.height, bar_format="{desc} ({elapsed})")
        elif self.verbose:
            self.line(f"{self.title}: {name} started")
        with self.lock:
            self.running[name] = (bar, time.perf_counter(), slot)

    def done(self, name: str, seconds: float, warnings: Sequence[str] = ()) -> None:
        """Section ``name`` finished in ``seconds``; ``warnings``: the messages it kept (shown when verbose)."""
        with self.lock:
            bar, _, _ = self.running.pop(name, (None, 0.0, 0))
            if bar is not None:
                bar.close()
        self.finished.append(name)
        if self.verbose:
            for w in warnings:
                self.line(f"{self.title}: {name}: warning: {w}")
        if self.total is not None:
            self.total.set_postfix_str(f"{name} {seconds:.0f} s", refresh=False)
            self.total.update(1)
        if self.mode == "lines" or self.verbose:
            self.line(f"{self.title}: {name} done in {seconds:.1f} s ({len(self.finished)}/{len(self.names)})")

    def refresh(self) -> None:
        """Redraw the running sections' elapsed times."""
        with self.lock:
            for bar, _, _ in self.running.values():
                if bar is not None:
                    bar.refresh()

    @contextlib.contextmanager
    def ticking(self, every: float = 0.5) -> Iterator[None]:
        """Redraw the elapsed times every ``every`` seconds while the block runs (sections in this process)."""
        if self.mode != "bars":
            yield
            return
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(every):
                self.refresh()

        thread = threading.Thread(target=tick, name="pcstats-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def close(self) -> None:
        """Close every bar (the one over the sections stays on the screen)."""
        with self.lock:
            for bar, _, _ in self.running.values():
                if bar is not None:
                    bar.close()
            self.running.clear()
        if self.total is not None:
            self.total.close()


def _size(file, rows: int) -> tuple[int, int]:
    """The terminal's columns and rows (80 and ``rows`` at least: some pseudo-terminals report 0 x 0)."""
    try:
        size = os.get_terminal_size(file.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return 80, rows
    return size.columns or 80, max(size.lines, rows)
