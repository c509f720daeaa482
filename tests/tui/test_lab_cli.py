"""`tui-nn` with no subcommand: what the lab is opened on (the step budget, --config,
--scenario, --open), and the errors, which exit 2 with a message that names what is
allowed. The app itself is replaced by a recorder: nothing is drawn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from engine import ExperimentConfig, Trainer
from engine.lecture.scenarios import SCENARIOS
from engine.store.runs import create_run_dir, save_run
from engine.store.toml import save_config
from tui_nn.cli import main
from tui_nn.core.files import LAB_STEPS


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Each LabApp the command line would open: its config and keyword arguments."""
    import tui_nn.app

    seen: list[dict[str, Any]] = []

    class FakeLab:
        def __init__(self, config: ExperimentConfig, fps: float, **extra: Any) -> None:
            seen.append({"config": config, "fps": fps, **extra})

        def run(self, mouse: bool) -> None:
            pass

    monkeypatch.setattr(tui_nn.app, "LabApp", FakeLab)
    return seen


def test_no_step_count_opens_with_the_lab_budget(opened, tmp_path: Path) -> None:
    assert main([]) == 0
    assert opened[-1]["config"].training.steps == LAB_STEPS
    assert main(["--steps", "300"]) == 0
    assert opened[-1]["config"].training.steps == 300
    without = tmp_path / "without.toml"
    without.write_text('[model]\nactivation = "tanh"\n')
    assert main(["--config", str(without)]) == 0
    config = opened[-1]["config"]
    assert config.model.activation == "tanh" and config.training.steps == LAB_STEPS
    with_steps = tmp_path / "with.toml"
    save_config(ExperimentConfig().with_changes(training={"steps": 2000}), with_steps)
    assert main(["--config", str(with_steps)]) == 0
    assert opened[-1]["config"].training.steps == 2000  # the file said so


def test_scenario_opens_the_lab_on_its_preset(opened) -> None:
    assert main(["--scenario", "dead_relu"]) == 0
    assert opened[-1]["scenario"] is SCENARIOS["dead_relu"]
    assert opened[-1]["config"] == SCENARIOS["dead_relu"].config


def test_an_unknown_scenario_exits_2_with_the_valid_names(opened, capsys) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["--scenario", "bogus"])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'bogus'" in err
    for name in SCENARIOS:
        assert name in err
    with pytest.raises(SystemExit) as exit:
        main(["--scenario", "zero_init", "--config", "x.toml"])
    assert exit.value.code == 2 and "cannot go with --config" in capsys.readouterr().err
    assert not opened


def test_options_apply_over_a_scenarios_preset(opened) -> None:
    assert main(["--scenario", "dead_relu", "--lr", "0.1"]) == 0
    config = opened[-1]["config"]
    assert config.optimizer.lr == 0.1
    assert config == SCENARIOS["dead_relu"].config.with_changes(optimizer={"lr": 0.1})
    assert opened[-1]["scenario"].config == config


def test_open_opens_the_lab_on_a_run_directory(opened, tmp_path: Path) -> None:
    config = ExperimentConfig().with_changes(data={"n_samples": 120}, training={"steps": 30})
    trainer = Trainer(config)
    trainer.run(30)
    run_dir = create_run_dir(tmp_path, config)
    save_run(trainer, run_dir, final=True)
    assert main(["--open", str(run_dir)]) == 0
    run = opened[-1]["run"]
    assert run.path == run_dir and run.trainer.steps_done == 30
    # It had reached its budget: the lab's lets it train on.
    assert opened[-1]["config"].training.steps == LAB_STEPS == run.trainer.config.training.steps


def test_a_bad_run_directory_exits_2_with_the_run_error(opened, tmp_path: Path, capsys) -> None:
    for path, says in [
        (tmp_path / "nope", "no such run directory"),
        (tmp_path, "not a run directory (no config.toml)"),
    ]:
        with pytest.raises(SystemExit) as exit:
            main(["--open", str(path)])
        assert exit.value.code == 2 and says in capsys.readouterr().err
    assert not opened


def test_the_lab_leaves_a_core_for_the_ui() -> None:
    """The lab caps the BLAS at one thread fewer than the cores (at least one)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from tui_nn.cli.lab import leave_a_core_for_the_ui

    with threadpool_limits(limits=None):  # restored after the test
        cap = leave_a_core_for_the_ui()
        assert cap == max(1, (os.cpu_count() or 1) - 1)
        blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
        assert blas and all(lib["num_threads"] <= cap for lib in blas)
