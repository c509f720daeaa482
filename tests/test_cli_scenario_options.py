"""On the command line: options over a scenario's preset, and `tui-nn train`'s
live line that fits the terminal (plain lines in logs stay as they were)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from engine import ExperimentConfig
from engine.lecture.scenarios import SCENARIOS
from engine.store.toml import save_config
from tui_nn.cli import build_parser, main
from tui_nn.cli.options import config_from_args
from tui_nn.cli.train import live_line, run_train

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Each LabApp the command line would open: its config and keyword arguments."""
    import tui_nn.app

    seen: list[dict[str, Any]] = []

    class RecordedLab:
        def __init__(self, config: ExperimentConfig, fps: float, **extra: Any) -> None:
            seen.append({"config": config, "fps": fps, **extra})

        def run(self, mouse: bool) -> None:
            pass

    monkeypatch.setattr(tui_nn.app, "LabApp", RecordedLab)
    return seen


# ----------------------------------------------------------------------------- --scenario


def test_options_apply_over_the_scenario_preset(opened) -> None:
    assert main(["--scenario", "dead_relu", "--lr", "0.05"]) == 0
    preset = SCENARIOS["dead_relu"]
    scenario = opened[-1]["scenario"]
    assert scenario.name == "dead_relu" and scenario.judge is preset.judge
    assert opened[-1]["config"] is scenario.config
    assert scenario.config == preset.config.with_changes(optimizer={"lr": 0.05})
    # Its counter-example runs at the same rate, still leaky ReLU instead of ReLU.
    counter = scenario.counterexample_config
    assert counter.optimizer.lr == 0.05 and counter.model.activation == "leaky_relu"
    assert main(["--scenario", "dead_relu", "--steps", "90", "--hidden", "16,16"]) == 0
    scenario = opened[-1]["scenario"]
    assert scenario.steps == 90 and scenario.config.model.hidden == [16, 16]
    assert scenario.config.optimizer.lr == preset.config.optimizer.lr


def test_a_scenario_alone_is_the_registered_one(opened) -> None:
    assert main(["--scenario", "zero_init"]) == 0
    assert opened[-1]["scenario"] is SCENARIOS["zero_init"]


def test_a_scenario_refuses_a_config_file_and_bad_options(
    opened, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "x.toml"
    save_config(ExperimentConfig(), file)
    with pytest.raises(SystemExit) as exit:
        main(["--scenario", "dead_relu", "--config", str(file)])
    assert exit.value.code == 2
    assert "cannot go with --config" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit:
        main(["--scenario", "dead_relu", "--lr", "-1"])
    assert exit.value.code == 2 and "optimizer.lr" in capsys.readouterr().err
    assert not opened


# ----------------------------------------------------------------------------- progress


def screen_lines(raw: str) -> list[str]:
    """What a terminal shows, line by line: escape codes dropped, \\r and \\n split."""
    return re.split(r"[\r\n]", ANSI.sub("", raw))


@pytest.mark.parametrize("width", [40, 80, 100])
def test_the_live_line_fits_a_terminal_of_any_width(width: int) -> None:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=True)
    args = build_parser().parse_args(["train", "--no-save", "--steps", "300"])
    assert run_train(args, config_from_args(args), console=console) == 0
    raw = buf.getvalue()
    lines = screen_lines(raw)
    assert "step 1/300" in raw  # the live line was drawn (always at the first step)
    assert max(len(line) for line in lines) <= width
    # The summary is wrapped between numbers: each number is whole on its line.
    assert "done: 300 steps" in raw and any(line.startswith("step 300") for line in lines)
    assert any("val_acc" in line for line in lines)


def test_the_live_line_keeps_the_step_and_loss_first_and_adds_a_bar_with_room() -> None:
    report = {
        "step": 1234,
        "epoch": 12.5,
        "loss": 0.1234,
        "steps_per_s": 5678.0,
        "train_loss": 0.1,
        "train_acc": 0.9,
        "val_loss": 0.2,
        "val_acc": 0.85,
    }
    narrow = live_line(report, 10000, 40).plain
    assert narrow.startswith("step 1234/10000") and "loss 0.1234" in narrow
    assert len(narrow) <= 40
    wide = live_line(report, 10000, 200).plain
    assert "━" in wide and "epoch 12.50" in wide and "5678 steps/s" in wide
    # What is kept depends on the width, not on the numbers: the same at every step.
    later = report | {"step": 9999, "steps_per_s": 12.0, "loss": 12.5}

    def labels(text: str) -> list[str]:
        return [part.split()[0] for part in text.split("  ")[1:]]

    assert labels(live_line(later, 10000, 80).plain) == labels(live_line(report, 10000, 80).plain)


def test_a_log_still_gets_plain_lines() -> None:
    buf = io.StringIO()  # not a terminal: no console is made, no escape codes written
    args = build_parser().parse_args(["train", "--no-save", "--steps", "100", "--eval-every", "50"])
    assert run_train(args, config_from_args(args), out=buf) == 0
    # The timeline's "event: ..." lines come between the progress lines.
    lines = [line for line in buf.getvalue().splitlines() if not line.startswith("event: ")]
    assert [line.split()[1] for line in lines[:2]] == ["50", "100"]
    assert "\x1b" not in buf.getvalue() and "\r" not in buf.getvalue()
