"""The real `tui-nn` in a real terminal (tmux, a socket of its own): `:compare` starts a
comparison, and the screen shows its runs' lines (the legend and the plot's marks) and its
table; C goes back to the single-run view; `tui-nn tour` opens the tour."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.test_tmux import PLOT_MARKS, SESSION, TUI_NN, Tmux, wait_gone
from tests.e2e.test_tmux import pytestmark as tmux_needs  # tmux and the console script

pytestmark = tmux_needs
LABELS = ("relu", "tanh", "sigmoid")


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    server = Tmux()
    yield server
    server.kill()


def start(tmux: Tmux, width: int, height: int, *args: str) -> int:
    command = ["env", "-u", "COLUMNS", "-u", "LINES", "TERM=xterm-256color", str(TUI_NN)]
    command += ["--no-mouse", *args]  # before a subcommand
    tmux(
        "new-session", "-d", "-s", SESSION, "-x", str(width), "-y", str(height),
        " ".join(command),
        ";", "set-option", "-w", "-t", SESSION, "remain-on-exit", "on",
    )  # fmt: skip
    return int(tmux("display-message", "-p", "-t", SESSION, "#{pane_pid}").strip())


def table_rows(screen: str) -> list[str]:
    """The table's rows: from its header (the varied field and the numbers) down."""
    lines = screen.splitlines()
    header = next(
        (i for i, line in enumerate(lines) if "activation" in line and "loss" in line), None
    )
    return [] if header is None else lines[header : header + 1 + len(LABELS)]


def legend_and_lines(screen: str) -> bool:
    """The loss plot's legend names every run and its canvas holds line marks."""
    lines = screen.splitlines()
    title = next((i for i, line in enumerate(lines) if "loss (log)" in line), None)
    if title is None:
        return False
    legend = " ".join(lines[title : title + 3])
    canvas = lines[title + 1 : title + 12]
    return all(label in legend for label in LABELS) and any(PLOT_MARKS & set(r) for r in canvas)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_compare_shows_its_runs_lines_and_table(tmux: Tmux, size: tuple[int, int]) -> None:
    pid = start(tmux, *size, "--steps", "100000000")
    tmux.wait_for(lambda s: "IDLE" in s, 30, "the idle lab")
    tmux.keys(":")
    tmux.wait_for(lambda s: "compare FIELD=V1,V2" in s, 10, "the command line")
    tmux.keys("compare activation=" + ",".join(LABELS), "Enter")
    screen = tmux.wait_for(
        lambda s: "COMPARE RUNNING" in s and legend_and_lines(s) and len(table_rows(s)) == 4,
        30,
        "the runs' lines and table",
    )
    rows = table_rows(screen)
    for label, row in zip(LABELS, rows[1:], strict=True):
        assert f" {label} " in row, rows
        assert any(ch.isdigit() for ch in row.split(label, 1)[1]), row  # its step and loss
    tmux.keys("C")
    tmux.wait_for(lambda s: "IDLE" in s and "COMPARE" not in s, 10, "the single-run view")
    tmux.keys("C")
    tmux.wait_for(lambda s: "COMPARE RUNNING" in s, 10, "the compare view again")
    tmux.keys("q")
    wait_gone(pid, 30)


def test_tui_nn_tour_opens_the_first_stop(tmux: Tmux) -> None:
    pid = start(tmux, 80, 24, "tour")
    screen = tmux.wait_for(
        lambda s: "Tour 1/6" in s and "COMPARE DONE" in s, 30, "the first stop's comparison"
    )
    assert "linear" in screen and "xor" in screen
    tmux.keys("Right")
    tmux.wait_for(lambda s: "Tour 2/6" in s, 10, "the second stop")
    tmux.keys("q")
    wait_gone(pid, 30)
