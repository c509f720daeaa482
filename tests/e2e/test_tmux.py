"""The real `tui-nn` console script in a real terminal (tmux): start training, see the
step count rise and a plot drawn, pause, one step with n, quit, and the process is gone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TUI_NN = Path(sys.executable).parent / "tui-nn"
SESSION = "lab"
# plotext's marks: braille lines, 2x2 blocks, dots and pluses (without colour)
PLOT_MARKS = set("▀▄▌▐▖▗▘▝▚▞▙▛▜▟█•+") | {chr(c) for c in range(0x2801, 0x2900)}
# Under pytest the C-level environment can hold COLUMNS=80 and LINES=24 (set behind
# os.environ's back); a tmux server started with them hands them to the pane, and
# the app then lays out for 80x24 in a 120x40 pane. Start tmux from os.environ only,
# and unset both in the pane too.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
    pytest.mark.skipif(not TUI_NN.exists(), reason=f"needs the console script at {TUI_NN}"),
]


class Tmux:
    """One tmux server on its own socket, so tests never touch anyone's sessions."""

    def __init__(self) -> None:
        self.socket = f"tui-nn-test-{uuid.uuid4().hex[:10]}"

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
            env=CLEAN_ENV,
        )
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", SESSION)

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", SESSION, *keys)

    def wait_for(self, ok: Callable[[str], bool], timeout: float, what: str) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if ok(text):
                return text
            if time.monotonic() > deadline:
                size = self("display-message", "-p", "-t", SESSION, "#{pane_width}x#{pane_height}")
                raise AssertionError(
                    f"timed out waiting for {what}; the {size.strip()} screen:\n{text}"
                )
            time.sleep(0.1)

    def kill(self) -> None:
        """Stop the server and remove its socket file, so test runs leave nothing behind."""
        found = subprocess.run(
            ["tmux", "-L", self.socket, "display-message", "-p", "#{socket_path}"],
            capture_output=True,
            text=True,
            env=CLEAN_ENV,
        )
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        if found.returncode == 0 and found.stdout.strip():
            Path(found.stdout.strip()).unlink(missing_ok=True)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    server = Tmux()
    yield server
    server.kill()


def status_step(screen: str) -> int | None:
    match = re.search(r"\b(?:IDLE|RUNNING|PAUSED|DONE|DIVERGED)\s+step ([\d,]+)", screen)
    return int(match.group(1).replace(",", "")) if match else None


def status_rows(screen: str) -> list[str]:
    """The status line's rows: from the run's state to the row above the footer."""
    lines = screen.splitlines()
    first = next(i for i, line in enumerate(lines) if status_step(line) is not None)
    return [line.strip() for line in lines[first:-1]]


def plot_canvas(screen: str) -> list[str]:
    """The rows of the loss plot's canvas: right of its y axis (│ and ┤ ticks), between
    its title and the corner └ where its x axis starts; [] while there is none."""
    lines = screen.splitlines()
    title = next((i for i, line in enumerate(lines) if "loss (log)" in line), None)
    if title is None:
        return []
    left = lines[title].index("loss (log)")
    corner = next((i for i in range(title + 1, len(lines)) if "└" in lines[i][left:]), None)
    if corner is None:
        return []
    axis = lines[corner].index("└", left)
    rows = lines[title + 1 : corner]
    return [row[axis + 1 :] for row in rows if row[axis : axis + 1] in ("│", "┤")]


def plot_drawn(screen: str) -> bool:
    """The loss plot has its canvas and some line marks in it."""
    return any(PLOT_MARKS & set(row) for row in plot_canvas(screen))


def gone(pid: int) -> bool:
    """Exited: no such process, or a zombie (tmux keeps a remain-on-exit pane's
    child unreaped; it has exited all the same)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def wait_gone(pid: int, timeout: float) -> None:
    """Until the process has exited; the timeout only catches a hang (how fast q quits is
    measured by benchmarks/ui_bench.py, not asserted here)."""
    deadline = time.monotonic() + timeout
    while not gone(pid):
        if time.monotonic() > deadline:
            raise AssertionError(f"tui-nn still running {timeout:.0f} s after q")
        time.sleep(0.05)


@pytest.mark.parametrize("no_color", [False, True], ids=["color", "no-color"])
def test_train_pause_and_quit_in_tmux(tmux: Tmux, no_color: bool) -> None:
    env = ["TERM=xterm-256color", *(["NO_COLOR=1"] if no_color else [])]
    # A step budget no test reaches, so "pause" pauses a running run.
    command = ["env", "-u", "COLUMNS", "-u", "LINES", *env, str(TUI_NN), "--steps", "100000000"]
    command.append("--no-mouse")
    tmux(
        "new-session", "-d", "-s", SESSION, "-x", "120", "-y", "40",
        " ".join(command),
        ";", "set-option", "-w", "-t", SESSION, "remain-on-exit", "on",
    )  # fmt: skip
    pid = int(tmux("display-message", "-p", "-t", SESSION, "#{pane_pid}").strip())

    tmux.wait_for(lambda s: status_step(s) == 0 and "IDLE" in s, 30, "the idle lab")
    tmux.keys("Space")
    first = tmux.wait_for(
        lambda s: "RUNNING" in s and (status_step(s) or 0) > 0, 10, "training to start"
    )
    began = status_step(first) or 0
    screen = tmux.wait_for(
        lambda s: (status_step(s) or 0) > began and plot_drawn(s), 10, "steps to rise and a plot"
    )
    assert "steps/s" in screen

    tmux.keys("Space")
    at = status_step(tmux.wait_for(lambda s: "PAUSED" in s, 5, "the pause")) or 0
    tmux.keys("n")  # paused: n takes exactly one step, and nothing else does
    tmux.wait_for(lambda s: status_step(s) == at + 1, 5, f"step {at + 1} after n")

    tmux.keys("q")
    wait_gone(pid, 30)
    assert tmux("display-message", "-p", "-t", SESSION, "#{pane_dead}").strip() == "1"


def test_a_scenario_from_the_command_line_at_80x24(tmux: Tmux) -> None:
    """`tui-nn --scenario zero_init`: the preset runs, its verdict shows above the status
    line; d opens the depth profile over it and esc comes back; q quits."""
    command = ["env", "-u", "COLUMNS", "-u", "LINES", "TERM=xterm-256color", str(TUI_NN)]
    command += ["--scenario", "zero_init", "--no-mouse"]
    tmux(
        "new-session", "-d", "-s", SESSION, "-x", "80", "-y", "24",
        " ".join(command),
        ";", "set-option", "-w", "-t", SESSION, "remain-on-exit", "on",
    )  # fmt: skip
    pid = int(tmux("display-message", "-p", "-t", SESSION, "#{pane_pid}").strip())
    screen = tmux.wait_for(lambda s: "DONE" in s and "OBSERVED" in s, 30, "the scenario's verdict")
    assert "zero_init:" in screen and status_step(screen) == 150
    tmux.keys("d")
    tmux.wait_for(lambda s: "Depth profile" in s and "histogram" in s, 10, "the depth profile")
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "OBSERVED" in s and "Depth profile" not in s, 5, "the lab again")
    tmux.keys("q")
    wait_gone(pid, 30)


def test_80x24_shows_the_whole_status_line_and_ten_rows_of_plot(tmux: Tmux) -> None:
    """Over SSH at 80x24: a run's status line reads whole (each number with its label) and
    the loss plot has at least 10 rows of canvas."""
    command = ["env", "-u", "COLUMNS", "-u", "LINES", "TERM=xterm-256color", str(TUI_NN)]
    command += ["--steps", "100000000", "--no-mouse"]
    tmux(
        "new-session", "-d", "-s", SESSION, "-x", "80", "-y", "24",
        " ".join(command),
        ";", "set-option", "-w", "-t", SESSION, "remain-on-exit", "on",
    )  # fmt: skip
    pid = int(tmux("display-message", "-p", "-t", SESSION, "#{pane_pid}").strip())
    tmux.wait_for(lambda s: status_step(s) == 0 and "IDLE" in s, 30, "the idle lab")
    tmux.keys("Space")
    tmux.wait_for(lambda s: (status_step(s) or 0) > 1000 and plot_drawn(s), 30, "a long run")
    tmux.keys("Space")
    screen = tmux.wait_for(lambda s: "PAUSED" in s, 5, "the pause")
    status = " ".join(status_rows(screen))
    assert re.search(r"PAUSED  step [\d,]+  epoch [\d,.]+  batch loss \S+", status), status
    assert re.search(r"eval at step [\d,]+: train \S+ acc [\d.]+%, val \S+ acc [\d.]+%", status)
    assert "space: resume" in status and "…" not in status
    assert len(plot_canvas(screen)) >= 10, screen
    tmux.keys("q")
    wait_gone(pid, 30)


def test_an_unknown_scenario_exits_2_with_the_names() -> None:
    done = subprocess.run(
        [str(TUI_NN), "--scenario", "nope"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert "unknown scenario 'nope'; valid: single_neuron" in done.stderr
    assert "Traceback" not in done.stderr
