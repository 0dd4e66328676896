"""Run the sections of the reproduction (in order, or in worker processes) and write the report.

Each section is a function ``(Context) -> Section`` that reads the fixtures and writes its own
files; none reads another's outputs, so they can run in any order and in parallel processes. The
report (summary, paper tables, index.html, manifest) is written from all of them at the end. Each
section's :class:`Section` (fits included) is kept in ``OUT/.pipeline/SECTION.pkl``, so that
``only=`` reruns some sections and rewrites the report with the others' kept results.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from ..atomic import atomic_output
from ..data.design import DESIGNS, PAPER, StudyDesign
from ..errors import PcstatsError, did_you_mean
from ..progress import Display, Mode, Send
from ..progress import section as section_progress
from .bayes import bayes
from .comparisons import comparisons
from .context import Context, Section
from .evaluation import evaluation
from .grid import gridded
from .inputs import FIXTURES, MODELS, seasonal_tables
from .mixed import mixed
from .productivity import productivity
from .report import write_outputs
from .robustness import robustness
from .sem import sem
from .smap import smap
from .trends import trends

__all__ = ["SECTIONS", "reproduce"]


def _evaluation(ctx: Context) -> Section:
    return evaluation(ctx.out, ctx.fixtures, ctx.models)


def _robustness(ctx: Context) -> Section:
    return robustness(ctx.out, ctx.fixtures, ctx.models, seasonal_tables(ctx.fixtures, ctx.design)[0])


def _grid(ctx: Context) -> Section:
    return gridded(ctx.out, ctx.fixtures)


#: the sections, in the order of the report
SECTIONS: dict[str, Callable[[Context], Section]] = {
    "trends": trends, "mixed": mixed, "bayes": bayes, "sem": sem,
    "evaluation": _evaluation, "robustness": _robustness, "grid": _grid,
    "productivity": productivity, "comparisons": comparisons, "smap": smap,
}
#: the order worker processes start sections in: the longest (bayes, 36 s of 76 s in one process) first, and
#: mixed last, as its BLAS-bound fits slow 3x while nutpie samples beside them
START = ("bayes", "robustness", "trends", "evaluation", "comparisons", "grid", "smap", "productivity", "sem", "mixed")
KEPT = ".pipeline"  # each section's Section, for reruns with only=


def reproduce(out: str | Path, fixtures: str | Path = FIXTURES, models: str | Path = MODELS, *,
              only: Sequence[str] | None = None, jobs: int | None = None, progress: bool | Mode | None = None,
              verbose: bool = False, previous: str | Path | None = None, design: StudyDesign | str = PAPER) -> dict:
    """Run the reproduction into ``out`` and return the manifest.

    ``only`` names sections to rerun into an ``out`` written before (the others' results are read
    from ``out/.pipeline``, or from ``previous/.pipeline``); ``jobs`` > 1 runs sections in that many worker processes
    (default: 2 when the machine has 2 cores or more; started in the order of :data:`START`). All files
    reach ``out`` together or not at all (:func:`pcstats.atomic.atomic_output`). ``progress``: ``"bars"``
    (or ``True``: a bar over the sections and a status line per running section), ``"lines"`` (or ``False``:
    one line per finished section), ``"none"``; ``None``: bars when stderr is a terminal, else lines.
    ``verbose``: also a line per fit and status, the warnings as they come and what the backends printed.
    Nothing the sections or their backends print reaches the terminal otherwise (:mod:`pcstats.progress`).
    ``design``: how the inversions' cells become the regions compared (:class:`pcstats.StudyDesign`, or the
    name of one in :data:`pcstats.DESIGNS`); the paper's by default. Sections kept from an earlier run must
    have used the same design.
    """
    if isinstance(design, str):
        if design not in DESIGNS:
            raise PcstatsError(f"no study design {design!r}.{did_you_mean(design, list(DESIGNS))} Designs: {', '.join(DESIGNS)}.")
        design = DESIGNS[design]
    names = list(SECTIONS) if only is None else list(dict.fromkeys(only))
    jobs = min(2, os.cpu_count() or 1) if jobs is None else jobs
    for name in names:
        if name not in SECTIONS:
            raise PcstatsError(f"no section {name!r}.{did_you_mean(name, list(SECTIONS))} Sections: {', '.join(SECTIONS)}.")
    mode = {True: "bars", False: "lines", None: "bars" if sys.stderr.isatty() else "lines"}.get(progress, progress)
    if mode not in ("bars", "lines", "none"):
        raise PcstatsError(f"progress={progress!r}: use 'bars', 'lines', 'none', True, False or None.")
    kept = _kept(Path(previous or out), [n for n in SECTIONS if n not in names], design)
    with atomic_output(out) as tmp:
        ctx = Context(Path(tmp), Path(fixtures), Path(models), design)
        done = _run(ctx, names, jobs, mode, verbose)
        (ctx.out / KEPT).mkdir(exist_ok=True)
        (ctx.out / KEPT / "design.json").write_text(json.dumps(design.describe(), indent=2) + "\n", encoding="utf-8")
        for name, section in done.items():
            (ctx.out / KEPT / f"{name}.pkl").write_bytes(pickle.dumps(section, protocol=pickle.HIGHEST_PROTOCOL))
        return write_outputs(ctx.out, {n: done.get(n) or kept[n] for n in SECTIONS}, Path(previous or out))


def _kept(out: Path, names: list[str], design: StudyDesign) -> dict[str, Section]:
    """The Sections of an earlier run for the sections not rerun (made under the same design)."""
    kept = {}
    recorded = out / KEPT / "design.json"
    if names and recorded.is_file() and json.loads(recorded.read_text()) != design.describe():
        raise PcstatsError(f"only=: {out} was written under study design {json.loads(recorded.read_text())['name']!r}, "
                           f"not {design.name!r}; rerun every section (no --only) to change the design.")
    for name in names:
        path = out / KEPT / f"{name}.pkl"
        if not path.is_file():
            raise PcstatsError(f"only=: {out} has no results of section {name!r} ({path} is missing); run the whole "
                               "reproduction into it first (pcstats reproduce --out ...).")
        kept[name] = pickle.loads(path.read_bytes())
    return kept


def _run(ctx: Context, names: list[str], jobs: int, progress: Mode, verbose: bool = False) -> dict[str, Section]:
    """Run sections, showing each as it runs and finishes (:class:`pcstats.progress.Display`); returns them
    in the order asked.

    In worker processes (spawn) a section's events reach the display through a queue given to each
    worker when it starts; in this process they go to the display directly.
    """
    display = Display(names, progress, verbose)
    done: dict[str, Section] = {}

    def finished(name: str, section: Section, seconds: float) -> None:
        done[name] = section
        display.done(name, seconds, section.messages)

    try:
        if jobs <= 1 or len(names) == 1:
            for name in names:
                with display.ticking():
                    result = _section(name, ctx, display.event, verbose)
                finished(name, *result)
        else:
            import multiprocessing

            spawn = multiprocessing.get_context("spawn")
            events = spawn.Queue()
            with ProcessPoolExecutor(min(jobs, len(names)), mp_context=spawn, initializer=_worker,
                                     initargs=(events,)) as pool:
                futures = {pool.submit(_section_in_worker, name, ctx, verbose): name
                           for name in sorted(names, key=lambda n: START.index(n) if n in START else len(START))}
                pending = set(futures)
                try:
                    while pending:
                        ready, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                        _drain(events, display)
                        for future in ready:
                            finished(futures[future], *future.result())
                        display.refresh()
                except BaseException:  # a section failed (or Ctrl-C): start no other; the running ones end first
                    for future in pending:
                        future.cancel()
                    raise
            _drain(events, display)
    finally:
        display.close()
    return {name: done[name] for name in names}


_EVENTS = None  # in a worker process: the queue to the parent's display


def _worker(events) -> None:
    """Start of a worker process: keep the queue its sections' events go to."""
    global _EVENTS
    _EVENTS = events


def _section_in_worker(name: str, ctx: Context, verbose: bool) -> tuple[Section, float]:
    return _section(name, ctx, lambda *event: _EVENTS.put(event), verbose)


def _drain(events, display: Display) -> None:
    """Show the events the workers have sent so far."""
    import queue

    while True:
        try:
            display.event(*events.get_nowait())
        except queue.Empty:
            return


def _section(name: str, ctx: Context, send: Send, verbose: bool = False) -> tuple[Section, float]:
    """Run one section, its prints and log records sent to the display; its file paths relative to the output folder."""
    start = time.perf_counter()
    with section_progress(name, send, verbose):
        section = SECTIONS[name](ctx)
    section.written = [_relative(p, ctx.out) for p in section.written]
    section.figures = [_relative(p, ctx.out) for p in section.figures]
    return section, time.perf_counter() - start


def _relative(path: Path, out: Path) -> Path:
    path = Path(path)
    return path.relative_to(out) if path.is_absolute() else path
