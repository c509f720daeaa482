"""Pilot tests of experiments on disk in the lab: save and open a config file, save and
open a run directory, and a data file in the Data panel. Every error shows where the
path was typed, and the run is kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pilot_helpers import CONFIG, SIZE, wait_for_notification
from textual.widgets import Input

from engine import ExperimentConfig, Trainer
from engine.store.runs import create_run_dir, save_run
from engine.store.toml import load_config, save_config
from tui_nn.app import LabApp
from tui_nn.core.files import LAB_STEPS
from tui_nn.screens.files import PathModal

pytestmark = pytest.mark.usefixtures("ui_idle")


async def submit_path(pilot, key: str, path: Path | str) -> PathModal:
    """Open a path modal with its key, type the path, press enter; returns the modal."""
    await pilot.press(key)
    modal = pilot.app.screen
    assert isinstance(modal, PathModal)
    modal.query_one(Input).value = str(path)
    await pilot.press("enter")
    return modal


def run_state(app: LabApp) -> tuple[int, int, ExperimentConfig]:
    snap = app.runner.snapshot()
    return snap.run_id, snap.step, snap.config


# ---------------------------------------------------------------- config files


async def test_ctrl_s_saves_the_config_and_ctrl_o_opens_it_as_a_new_run(tmp_path: Path) -> None:
    app = LabApp(CONFIG.with_changes(model={"activation": "tanh", "hidden": [8]}))
    async with app.run_test(size=SIZE) as pilot:
        target = tmp_path / "exp.toml"
        modal = await submit_path(pilot, "ctrl+s", target)
        assert not isinstance(app.screen, PathModal)
        assert load_config(target) == app.runner.config
        await wait_for_notification(pilot, "Saved")
        # Saving again over it asks first; a second enter overwrites.
        modal = await submit_path(pilot, "ctrl+s", target)
        assert isinstance(app.screen, PathModal) and "exists" in modal.error
        await pilot.press("enter")
        assert not isinstance(app.screen, PathModal)

        # Change the model, then open the file: the saved config, as a new run.
        app.query_one("#model-hidden", Input).value = "4"
        app.query_one("#model-hidden", Input).focus()
        await pilot.press("enter", "escape", "n", "n")
        assert app.runner.config.model.hidden == [4]
        run_id = app.runner.snapshot().run_id
        await submit_path(pilot, "ctrl+o", target)
        assert not isinstance(app.screen, PathModal)
        snap = app.runner.snapshot()
        assert snap.config == load_config(target) and snap.run_id > run_id and snap.step == 0
        assert app.query_one("#model-hidden", Input).value == "8"


async def test_a_file_without_steps_opens_with_the_lab_budget(tmp_path: Path) -> None:
    file = tmp_path / "no_steps.toml"
    file.write_text('[model]\nactivation = "sigmoid"\n')
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await submit_path(pilot, "ctrl+o", file)
        config = app.runner.config
        assert config.model.activation == "sigmoid" and config.training.steps == LAB_STEPS
        file.write_text("[training]\nsteps = 321\n")
        await submit_path(pilot, "ctrl+o", file)
        assert app.runner.config.training.steps == 321


BAD_FILES: dict[str, tuple[str | None, str]] = {
    "missing": (None, "no such config file"),
    "bad TOML": ("[model\n", "not valid TOML"),
    "unknown key": ('[model]\nactivaton = "tanh"\n', "model.activaton: unknown field; allowed:"),
    "bad value": ("[optimizer]\nlr = -1\n", "optimizer.lr: must be a finite number > 0"),
}


async def test_a_bad_config_file_shows_its_error_in_the_modal_and_keeps_the_run(
    tmp_path: Path,
) -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n")
        before = run_state(app)
        for name, (content, says) in BAD_FILES.items():
            file = tmp_path / f"{name.replace(' ', '_')}.toml"
            if content is not None:
                file.write_text(content)
            modal = await submit_path(pilot, "ctrl+o", file)
            assert isinstance(app.screen, PathModal), name  # stays open with the error
            assert says in modal.error, (name, modal.error)
            assert run_state(app) == before
            await pilot.press("escape")
            assert not isinstance(app.screen, PathModal)
        # An empty path is refused too, and esc cancels without a change.
        modal = await submit_path(pilot, "ctrl+o", "")
        assert "Type a path" in modal.error
        await pilot.press("escape")
        assert run_state(app) == before


# ---------------------------------------------------------------- run directories


def engine_run(root: Path, steps: int = 60) -> tuple[Path, Trainer]:
    """A run directory the way `tui-nn train` makes one."""
    config = CONFIG.with_changes(training={"steps": steps, "eval_every": 20})
    trainer = Trainer(config)
    trainer.run(steps)
    run_dir = create_run_dir(root, config)
    save_run(trainer, run_dir, final=True)
    return run_dir, trainer


async def test_shift_o_opens_a_run_directory_paused_with_its_curves(tmp_path: Path) -> None:
    run_dir, trainer = engine_run(tmp_path / "runs")
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await submit_path(pilot, "O", run_dir)
        assert not isinstance(app.screen, PathModal)
        snap = app.runner.snapshot()
        assert snap.step == 60 and snap.state == "paused"
        assert [e.step for e in snap.evals] == [0, 20, 40, 60]
        loss = app.runner.read(lambda t: t.history.last()["loss"])
        assert loss == pytest.approx(trainer.history.last()["loss"])
        # The run had reached its 60 steps: the lab raised the budget so it trains on.
        assert snap.config.training.steps == LAB_STEPS
        np.testing.assert_array_equal(
            app.runner.read(lambda t: t.network.theta.copy()), trainer.network.theta
        )
        await pilot.press("n")
        assert app.runner.snapshot().step == 61
        await wait_for_notification(pilot, "at step 60")


async def test_shift_s_saves_the_run_and_it_opens_again(tmp_path: Path) -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "n", "n", "n")
        theta = app.runner.read(lambda t: t.network.theta.copy())
        await submit_path(pilot, "S", tmp_path / "saved")
        assert not isinstance(app.screen, PathModal)
        await app.workers.wait_for_complete()  # a thread writes the run
        await pilot.pause()
        (run_dir,) = (tmp_path / "saved").iterdir()
        await wait_for_notification(pilot, f"Saved the run to {run_dir}")
        for name in ("config.toml", "weights.npz", "metrics.csv", "summary.json"):
            assert (run_dir / name).exists()
        await pilot.press("r")
        assert app.runner.snapshot().step == 0
        # The dialog suggests the run just saved.
        await pilot.press("O")
        assert app.screen.query_one(Input).value == str(run_dir)
        await pilot.press("enter")
        snap = app.runner.snapshot()
        assert (snap.step, snap.state) == (5, "paused")
        np.testing.assert_array_equal(app.runner.read(lambda t: t.network.theta.copy()), theta)


async def test_a_run_that_cannot_be_saved_is_told_in_a_notification(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await submit_path(pilot, "S", not_a_folder)
        await app.workers.wait_for_complete()
        await pilot.pause()
        await wait_for_notification(pilot, severity="error")
        assert app.runner.snapshot().step == 1


async def test_a_bad_run_directory_shows_the_run_error_and_keeps_the_run(tmp_path: Path) -> None:
    not_a_run = tmp_path / "empty"
    not_a_run.mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    save_config(CONFIG, broken / "config.toml")
    (broken / "weights.npz").write_bytes(b"not a zip")
    cases = {
        tmp_path / "nope": "no such run directory",
        not_a_run: "not a run directory (no config.toml)",
        broken: "weights.npz: not an .npz archive",
    }
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        before = run_state(app)
        for path, says in cases.items():
            modal = await submit_path(pilot, "O", path)
            assert isinstance(app.screen, PathModal) and says in modal.error, modal.error
            await pilot.press("escape")
            assert run_state(app) == before


# ---------------------------------------------------------------- data files


async def test_a_data_file_in_the_data_panel_and_a_bad_one(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = ["a,b,c,label"] + [
        f"{x:.4f},{y:.4f},{z:.4f},{'yes' if x + y > 0 else 'no'}"
        for x, y, z in rng.standard_normal((120, 3))
    ]
    good = tmp_path / "points.csv"
    good.write_text("\n".join(rows) + "\n")
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n")
        before = run_state(app)

        def error_text() -> str:
            return str(app.query_one("#error-data-path").render())

        path_input = app.query_one("#data-path", Input)
        for bad, says in [
            # The path as given, not its basename.
            (tmp_path / "missing.csv", f"data.path: {tmp_path / 'missing.csv'}: file not found"),
            (tmp_path / "points.txt", "unsupported file type '.txt'; use .csv or .npz"),
        ]:
            path_input.focus()
            path_input.value = str(bad)
            await pilot.press("enter")
            assert says in error_text(), error_text()
            assert run_state(app) == before  # the run is kept

        path_input.value = str(good)
        await pilot.press("enter")
        assert error_text() == ""
        snap = app.runner.snapshot()
        assert snap.config.data.path == str(good) and snap.step == 0
        assert app.runner.read(lambda t: t.dataset.n_features) == 3
        assert snap.boundary is None  # 3 features: no decision boundary
        # The synthetic-set fields step aside; the target column shows.
        assert not app.query_one("#field-data-name").display
        assert app.query_one("#field-data-target").display
        target = app.query_one("#data-target", Input)
        target.focus()
        target.value = "nope"
        await pilot.press("enter")
        assert "nope" in str(app.query_one("#error-data-target").render())
        await pilot.press("escape", "space")
        assert app.runner.state == "running"
