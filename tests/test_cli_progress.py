"""Progress: a display per section, nothing printed through it, plain lines when not on a terminal."""

from __future__ import annotations

import io
import logging
import time
import warnings

import pytest

from pcstats import progress
from pcstats.pipeline.context import Context
from pcstats.pipeline.inputs import FIXTURES, MODELS
from pcstats.pipeline.run import _run


def test_a_section_sends_prints_logs_and_status_as_events(capfd):
    events = []
    with progress.section("demo", lambda *event: events.append(event)):
        assert not progress.sampler_bars()  # no sampler bar of its own inside a section
        progress.status("fitting demo.toml")
        print("printed by a backend")
        logging.getLogger("pymc").info("Sampling: [y]")  # INFO of a backend: dropped unless verbose
        logging.getLogger("pytensor").warning("a compiler warning")
        warnings.warn("an escaped warning", UserWarning, stacklevel=1)
    kinds = [(kind, text) for name, kind, _, text in events if name == "demo"]
    assert kinds == [("start", ""), ("status", "fitting demo.toml"), ("output", "printed by a backend"),
                     ("log", "pytensor: a compiler warning"), ("log", "UserWarning: an escaped warning")]
    assert capfd.readouterr() == ("", "")  # nothing reached the terminal
    assert logging.getLogger("pymc").handlers == [] or all(
        not isinstance(h, progress._Handler) for h in logging.getLogger("pymc").handlers)  # restored
    with progress.section("demo", lambda *event: events.append(event), verbose=True):
        logging.getLogger("pymc").info("Sampling: [y]")
    assert events[-1][1:] == ("log", logging.INFO, "pymc: Sampling: [y]")


@pytest.mark.parametrize(("mode", "verbose"), [("lines", False), ("lines", True), ("none", False), ("bars", False)])
def test_display_modes(mode, verbose):
    file = io.StringIO()
    display = progress.Display(["a", "b"], mode, verbose, file=file)
    for name in ("a", "b"):
        display.event(name, "start", logging.INFO, "")
    with display.ticking(every=0.01):  # elapsed times redrawn from a thread while a section runs here
        display.event("a", "status", logging.INFO, "sampling season='LGS' (3/4)")
        time.sleep(0.05)
    display.event("a", "log", logging.WARNING, "a warning")
    display.event("a", "log", logging.ERROR, "an error")
    display.done("a", 1.5, ["kept warning"])
    display.refresh()
    display.done("b", 2.0)
    display.close()
    text = file.getvalue()
    assert "an error" in text  # errors always
    if mode == "none":
        assert text.strip() == "reproduce: a: an error"
    if mode == "lines":
        lines = text.splitlines()
        assert "reproduce: a done in 1.5 s (1/2)" in lines and "reproduce: b done in 2.0 s (2/2)" in lines
        assert ("reproduce: a: sampling season='LGS' (3/4)" in lines) is verbose
        assert ("reproduce: a: warning: kept warning" in lines) is verbose
        assert ("reproduce: a: warning: a warning" in lines) is verbose
    if mode == "bars":
        assert "sampling season='LGS' (3/4)" in text and "2/2 sections" in text


@pytest.mark.parametrize("jobs", [1, 2])
def test_sections_report_a_line_each_when_not_on_a_terminal(tmp_path, capfd, jobs):
    ctx = Context(tmp_path, FIXTURES, MODELS)
    names = ["comparisons", "smap"][:jobs]  # the two quickest sections
    done = _run(ctx, names, jobs, "lines", verbose=jobs == 2)
    assert list(done) == names and all(done[n].written for n in done)
    out, err = capfd.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert all(line.startswith("reproduce: ") for line in lines), lines  # nothing else printed through
    for name in names:
        assert sum(line.startswith(f"reproduce: {name} done in ") for line in lines) == 1, lines
        assert (f"reproduce: {name} started" in lines) is (jobs == 2)  # verbose: the workers' events reach the parent
