"""Pilot tests of the lab: every binding, the palette, help, and each panel's validation."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from pilot_helpers import CONFIG, SIZE, wait_for_notification, wait_until
from rich.console import Console
from textual.command import CommandPalette
from textual.widgets import Input, OptionList, Select

from engine import ExperimentConfig
from tui_nn.app import LabApp
from tui_nn.commands import LAB_ACTIONS
from tui_nn.core.fields import ALL_FIELDS
from tui_nn.screens.help import HelpScreen
from tui_nn.widgets.chart import Chart
from tui_nn.widgets.config_panels import Field
from tui_nn.widgets.plots import PlotsPanel
from tui_nn.widgets.status import StatusLine

pytestmark = pytest.mark.usefixtures("ui_idle")


def status(app: LabApp) -> str:
    return str(app.query_one(StatusLine).render())


def plot_text(app: LabApp, key: str) -> str:
    """A plot as it reads on screen."""
    return app.query_one(f"#plot-{key}", Chart).text


def field(app: LabApp, key: str) -> Field:
    return app.query_one(f"#field-{key.replace('.', '-')}", Field)


def error_text(app: LabApp, key: str) -> str:
    return str(app.query_one(f"#error-{key.replace('.', '-')}").render())


async def type_into(pilot, key: str, text: str) -> None:
    """Focus a field, put text in it, press enter (typing is tested once, below)."""
    control = pilot.app.query_one(f"#{key.replace('.', '-')}", Input)
    control.focus()
    control.value = text
    await pilot.press("enter")


# ------------------------------------------------------------------ bindings


async def test_opens_idle_on_the_default_config_with_nothing_focused() -> None:
    app = LabApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        config = app.runner.config
        assert (config.data.name, config.data.n_classes) == ("spiral", 3)
        assert (config.model.hidden, config.model.activation) == ([16, 16], "relu")
        assert (config.model.init, config.optimizer.name) == ("he_normal", "adam")
        assert app.focused is None  # so space trains instead of opening a list
        assert status(app).startswith("IDLE  step 0")


def test_fps_is_kept_in_its_range() -> None:
    from tui_nn.app import MAX_FPS, MIN_FPS

    for asked, kept in [(10.0, 10.0), (0.0, MIN_FPS), (1e6, MAX_FPS)]:
        app = LabApp(None, fps=asked)
        assert app.fps == kept and app.runner.config == ExperimentConfig()
        app.runner.close()


async def test_space_starts_and_pauses_training() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        assert app.runner.state == "running"
        await wait_until(pilot, lambda: app.runner.snapshot().step > 20)
        await wait_until(pilot, lambda: "RUNNING" in status(app) and "steps/s" in status(app))
        await pilot.press("space")
        assert app.runner.state == "paused"
        paused_at = app.runner.snapshot().step
        await wait_until(pilot, lambda: status(app).startswith("PAUSED"))
        assert status(app).startswith(f"PAUSED  step {paused_at:,}")
        assert "steps/s" not in status(app) and app.runner.snapshot().step == paused_at


async def test_n_takes_one_step() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        assert app.runner.snapshot().step == 1
        await pilot.press("n", "n")
        assert app.runner.snapshot().step == 3
        assert status(app).startswith("PAUSED  step 3")


async def test_r_resets_to_the_same_weights() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        start = {k: v.copy() for k, v in app.runner._trainer.network.parameters().items()}
        await pilot.press("n", "n", "n", "r")
        assert app.runner.snapshot().step == 0
        for key, value in app.runner._trainer.network.parameters().items():
            np.testing.assert_array_equal(value, start[key])
        assert status(app).startswith("IDLE  step 0")


async def test_q_quits_mid_training_within_a_step_and_leaves_no_thread() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        await wait_until(pilot, lambda: app.runner.snapshot().step > 10)
        begun_after_stop = []
        real_step = app.runner._trainer.step

        def step():
            begun_after_stop.append(app.runner._stop.is_set())
            return real_step()

        app.runner._trainer.step = step
        await pilot.press("q")
        await pilot.pause()
    assert not app.runner.alive
    assert not [t for t in threading.enumerate() if t.name == "tui-nn-runner"]
    assert sum(begun_after_stop) <= 1  # at most the step that was starting as stop was set


async def test_quit_does_not_join_the_worker_on_the_event_loop() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        await wait_until(pilot, lambda: app.runner.snapshot().step > 10)
        worker = app.runner._thread
        joins: list[float | None] = []
        real_join = worker.join

        def join(timeout=None):
            joins.append(timeout)
            real_join(timeout)

        worker.join = join
        await app.action_quit()
        # Told to stop, but not joined here: a join blocks the event loop for up to 2 s.
        assert app.runner._stop.is_set() and not joins
    assert not app.runner.alive  # on_unmount joined it


async def test_raising_the_steps_of_a_done_run_trains_on_from_there() -> None:
    app = LabApp(CONFIG.with_changes(training={"steps": 40}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        await wait_until(pilot, lambda: app.runner.state == "done")
        theta = app.runner.read(lambda t: t.network.theta.copy())
        run_id = app.runner.snapshot().run_id
        await type_into(pilot, "training.steps", "60")
        snap = app.runner.snapshot()
        assert (snap.run_id, snap.step, snap.state) == (run_id, 40, "paused")
        np.testing.assert_array_equal(app.runner.read(lambda t: t.network.theta.copy()), theta)
        await pilot.press("escape", "space")  # leave the field, train on
        await wait_until(pilot, lambda: app.runner.state == "done")
        assert app.runner.snapshot().step == 60


async def test_steps_below_the_steps_done_are_refused_under_the_field() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"nnnnn")
        before = app.runner.snapshot()
        theta = app.runner.read(lambda t: t.network.theta.copy())
        await type_into(pilot, "training.steps", "3")
        says = "training.steps: cannot be 3: 5 steps are done; raise it, or press r to start over"
        assert says in error_text(app, "training.steps")
        assert field(app, "training.steps").has_class("-invalid")
        # The run is kept exactly: the same run, step, weights, history and evaluations.
        after = app.runner.snapshot()
        assert (after.run_id, after.step, after.config) == (before.run_id, 5, before.config)
        assert after.evals == before.evals
        assert after.series("loss", 10).steps.tolist() == before.series("loss", 10).steps.tolist()
        np.testing.assert_array_equal(app.runner.read(lambda t: t.network.theta), theta)
        await type_into(pilot, "training.steps", "50")  # raising it is fine
        assert error_text(app, "training.steps") == ""
        assert (app.runner.snapshot().run_id, app.runner.config.training.steps) == (
            before.run_id,
            50,
        )


async def test_raising_the_steps_mid_run_keeps_the_learning_rate() -> None:
    """The cosine schedule's horizon is optimizer.decay_steps: a new budget never moves it."""
    from engine import Trainer

    config = CONFIG.with_changes(
        training={"steps": 200}, optimizer={"schedule": "cosine", "decay_steps": 200}
    )
    headless = Trainer(config)
    headless.run(100)
    app = LabApp(config)
    async with app.run_test(size=SIZE) as pilot:
        app.runner.step(99)
        await pilot.press("n")
        rate = app.runner.snapshot().last.lr
        assert 0 < rate < config.optimizer.lr
        await type_into(pilot, "training.steps", "400")
        assert app.runner.config.training.steps == 400
        assert app.runner.read(lambda t: t.lr) == headless.lr
        await pilot.press("escape", "n")
        assert app.runner.snapshot().last.lr == headless.step().lr


async def test_plot_3_counts_the_dead_units_of_the_training_set() -> None:
    """A unit is dead when it is zero for every training sample; with a batch of 4 far
    more units are zero on one batch, which is what plot 3 showed before."""
    from engine.train.diagnostics import dead_units

    config = CONFIG.with_changes(
        model={"hidden": [32, 32]},
        optimizer={"name": "sgd", "lr": 0.5},
        training={"batch_size": 4, "eval_every": 25},
    )
    app = LabApp(config)
    async with app.run_test(size=SIZE) as pilot:
        app.runner.step(74)
        await pilot.press("n", "3")  # step 75: an evaluation
        snap = app.runner.snapshot()
        assert snap.last_eval is not None and snap.last_eval.step == 75

        def counts(trainer):
            network = trainer.network.astype(np.float64)  # a copy: the run is not touched
            network.forward(trainer.X_train.astype(np.float64))
            on_the_set = dead_units(network)
            network.forward(trainer.X_train[:4].astype(np.float64))  # a batch of 4
            return on_the_set, dead_units(network)

        on_the_set, on_a_batch = app.runner.read(counts)
        assert on_the_set == snap.last_eval.dead
        assert on_a_batch != on_the_set  # the two definitions differ here
        await wait_until(pilot, lambda: "dead" in plot_text(app, "units"))
        text = plot_text(app, "units")
        assert "dead: zero on every training sample, %" in text.splitlines()[0]
        assert f"L1 {on_the_set[0]}/32" in text and f"L2 {on_the_set[1]}/32" in text


async def test_number_keys_pick_the_plot() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        for number in [2, 3, 4, 5, 1]:
            await pilot.press(str(number))
            assert app.query_one(PlotsPanel).active == number


async def test_plus_and_minus_add_and_remove_a_layer() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "plus")
        assert app.runner.config.model.hidden == [16, 16, 16]
        assert app.query_one("#model-hidden", Input).value == "16,16,16"
        assert app.runner.snapshot().step == 0  # a model change starts a new run
        await pilot.press("minus", "minus", "minus")
        assert app.runner.config.model.hidden == []
        await pilot.press("minus")  # nothing left to remove: no error, no change
        assert app.runner.config.model.hidden == []
        await pilot.press("plus")
        assert app.runner.config.model.hidden == [16]


async def test_c_hides_and_shows_the_config_column() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        column = app.query_one("#config")
        await pilot.press("c")
        assert not column.display
        await pilot.press("c")
        assert column.display


async def test_question_mark_lists_every_key_and_esc_closes() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=100, record=True)
        console.print(app.screen.query_one("#help-keys").content)
        text = console.export_text()
        for entry in LAB_ACTIONS:
            assert f"{entry.key_name} " in text and entry.help in text
        assert "tab / shift+tab" in text and "ctrl+p" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_tab_and_shift_tab_move_through_the_fields_and_esc_leaves() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "data-name"
        await pilot.press("tab")
        assert app.focused.id == "data-n_classes"
        await pilot.press("shift+tab")
        assert app.focused.id == "data-name"
        await pilot.press("escape")
        assert app.focused is None
        await pilot.press("space")  # the keys act again
        assert app.runner.state == "running"


async def test_space_on_a_choice_field_still_trains() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("tab")
        assert isinstance(app.focused, Select)
        await pilot.press("space")
        assert app.runner.state == "running"


async def test_command_palette_offers_every_action_and_runs_it() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n")
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"reset")
        # The palette searches in a worker: wait until the hit is highlighted.
        await wait_until(pilot, lambda: app.screen.query_one(OptionList).highlighted is not None)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.runner.snapshot().step == 0)
        assert not isinstance(app.screen, CommandPalette)


async def test_every_action_is_in_the_palette() -> None:
    from tui_nn.commands import LabCommands

    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE):
        provider = LabCommands(app.screen)
        titles = [hit.text async for hit in provider.discover()]
        assert len(titles) == len(LAB_ACTIONS)
        for entry in LAB_ACTIONS:
            assert any(entry.title in t for t in titles)
        hits = [hit async for hit in provider.search("plot acc")]
        assert hits and "accuracy" in str(hits[0].text)


async def test_every_action_key_reaches_its_action() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.focused is None
        active = app.screen.active_bindings  # what a key resolves to, widgets and screen too
        for entry in LAB_ACTIONS:
            for key in entry.key.split(","):
                assert active[key].binding.action == entry.action, key
                assert active[key].enabled, key


# ---------------------------------------------------------------- validation


# Per panel: (field, bad text, what the message under the field must say).
BAD_VALUES: dict[str, list[tuple[str, str, str]]] = {
    "data": [
        ("data.noise", "abc", "data.noise: must be a number, got 'abc'"),
        ("data.noise", "20", "data.noise: must be a finite number >= 0 and <= 10"),
        ("data.n_samples", "2", "data.n_samples: must be a whole number from 4"),
        ("data.train_fraction", "1.5", "data.train_fraction: must be a finite number > 0"),
        ("data.n_classes", "1", "data.n_classes: must be a whole number from 2 to 10"),
    ],
    "model": [
        ("model.hidden", "16,x", "model.hidden: must be a list of whole numbers"),
        ("model.hidden", "16,0", "model.hidden[1]: a width must be from 1"),
    ],
    "optimizer": [
        ("optimizer.lr", "-1", "optimizer.lr: must be a finite number > 0"),
        ("optimizer.weight_decay", "nan", "optimizer.weight_decay: must be a finite number"),
        ("training.batch_size", "100000", "training.batch_size: must be at most"),
        ("training.seed", "1.5", "training.seed: must be a whole number"),
        ("training.steps", "0", "training.steps: must be a whole number from 1"),
    ],
}


@pytest.mark.parametrize("panel", list(BAD_VALUES))
async def test_a_bad_value_shows_what_is_allowed_and_keeps_the_run(panel: str) -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "n")
        before = app.runner.snapshot()
        for key, bad, says in BAD_VALUES[panel]:
            await type_into(pilot, key, bad)
            assert says in error_text(app, key)
            assert field(app, key).has_class("-invalid")
            after = app.runner.snapshot()
            assert (after.step, after.run_id, after.config) == (3, before.run_id, before.config)
        # Typing the applied value back clears the message.
        key = BAD_VALUES[panel][0][0]
        spec = field(app, key).spec
        await type_into(pilot, key, spec.format(spec.value_in(app.runner.config)))
        assert error_text(app, key) == "" and not field(app, key).has_class("-invalid")
        assert app.runner.snapshot().step == 3


async def test_a_bad_activation_parameter_shows_under_it() -> None:
    app = LabApp(CONFIG.with_changes(model={"activation": "leaky_relu"}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await type_into(pilot, "model.leaky_slope", "2")
        assert "model.leaky_slope: must be a finite number >= 0 and <= 1" in error_text(
            app, "model.leaky_slope"
        )
        assert app.runner.snapshot().step == 1


async def test_a_bad_value_keeps_a_running_run_running() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        await wait_until(pilot, lambda: app.runner.snapshot().step > 5)
        run_id = app.runner.snapshot().run_id
        await type_into(pilot, "optimizer.lr", "0")
        assert "optimizer.lr" in error_text(app, "optimizer.lr")
        step = app.runner.snapshot().step
        await wait_until(pilot, lambda: app.runner.snapshot().step > step)
        assert app.runner.state == "running" and app.runner.snapshot().run_id == run_id


async def test_typing_into_a_field_and_leaving_it_applies_it() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#data-noise", Input).focus()
        await pilot.press("end", "backspace", "backspace", "backspace")  # "0.1"
        await pilot.press(*"0.25", "tab")
        assert app.runner.config.data.noise == 0.25
        assert app.focused is not None and app.focused.id == "data-n_samples"


async def test_a_learning_rate_change_applies_to_the_running_run() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n")
        run_id = app.runner.snapshot().run_id
        await type_into(pilot, "optimizer.lr", "0.05")
        snap = app.runner.snapshot()
        assert (snap.run_id, snap.step, snap.config.optimizer.lr) == (run_id, 2, 0.05)


async def test_a_data_model_or_optimizer_change_starts_a_new_run() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        changes = [
            ("data.noise", "0.3", 0.3),
            ("data.n_samples", "200", 200),
            ("model.hidden", "8 4", [8, 4]),
            ("training.batch_size", "32", 32),
            ("training.seed", "7", 7),
        ]
        for key, text, expect in changes:
            await pilot.press("escape", "n", "n")
            run_id = app.runner.snapshot().run_id
            await type_into(pilot, key, text)
            snap = app.runner.snapshot()
            section, name = key.split(".")
            assert getattr(getattr(snap.config, section), name) == expect
            assert (snap.run_id, snap.step) == (run_id + 1, 0)
        assert app.query_one("#model-hidden", Input).value == "8,4"


async def test_choices_apply_and_show_the_activation_parameter() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        assert not field(app, "model.leaky_slope").display
        app.query_one("#model-activation", Select).value = "leaky_relu"
        await pilot.pause()
        assert app.runner.config.model.activation == "leaky_relu"
        assert field(app, "model.leaky_slope").display
        app.query_one("#model-activation", Select).value = "maxout"
        await pilot.pause()
        assert field(app, "model.maxout_k").display
        assert not field(app, "model.leaky_slope").display


async def test_a_choice_list_opens_from_the_keyboard() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#optimizer-name", Select).focus()
        await pilot.pause()
        await pilot.press("enter")  # opens the list on adam
        await pilot.pause()
        await pilot.press("up", "enter")  # the one above adam: rmsprop
        await pilot.pause()
        assert app.runner.config.optimizer.name == "rmsprop"


async def test_loss_follows_the_task() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        note = app.query_one("#loss-note")
        assert "softmax CE" in str(note.render())
        app.query_one("#data-name", Select).value = "sine"
        await pilot.pause()
        assert "MSE" in str(note.render())
        assert app.runner.snapshot().task == "regression"


def test_every_field_reads_and_writes_its_config_field() -> None:
    config = ExperimentConfig()
    for spec in ALL_FIELDS:
        value = spec.value_in(config)
        assert spec.parse(spec.format(value)) == value, spec.key
        assert config.with_changes(**{spec.section: {spec.name: value}}) == config, spec.key
        if spec.choices is not None:
            assert value in spec.choices()


# ------------------------------------------------------------------ failures


async def test_divergence_shows_in_the_status_line_and_a_notification() -> None:
    app = LabApp(CONFIG.with_changes(optimizer={"name": "sgd", "lr": 1000.0}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        await wait_until(pilot, lambda: "DIVERGED" in status(app))
        assert "diverged at step" in status(app)
        await wait_for_notification(pilot, "diverged at step")
        await pilot.press("space")  # refused with a hint, no crash
        assert app.runner.state == "diverged"
        await pilot.press("r")
        assert app.runner.state == "idle"


async def test_the_step_budget_ends_in_done_and_space_says_what_next() -> None:
    app = LabApp(CONFIG.with_changes(training={"steps": 40}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        await wait_until(pilot, lambda: status(app).startswith("DONE  step 40"))
        await pilot.press("space", "n")
        assert app.runner.snapshot().step == 40
        await wait_for_notification(pilot, "step budget")


async def test_a_worker_exception_shows_and_the_app_stays_usable() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:

        def broken_step():
            raise RuntimeError("boom")

        app.runner._trainer.step = broken_step
        await pilot.press("space")
        await wait_until(pilot, lambda: "RuntimeError: boom" in status(app))
        await wait_for_notification(pilot, "boom")
        await pilot.press("r", "n")
        assert app.runner.snapshot().step == 1


# -------------------------------------------------------------- size, colour


async def test_resizing_down_to_40x12_and_back_does_not_crash() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("space")
        for size in [(80, 24), (40, 12), (20, 6), (120, 40)]:
            await pilot.resize_terminal(*size)
            await pilot.pause(0.15)
        await pilot.press("space")
        assert app.runner.state == "paused"
        assert app.is_running


async def test_usable_at_80x24() -> None:
    # Momentum and a step schedule show three more fields: the Optimizer at its longest.
    app = LabApp(CONFIG.with_changes(optimizer={"name": "momentum", "schedule": "step"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await pilot.press("tab", "shift+tab")  # wraps to the last field, in another panel
        assert app.focused is not None and app.focused.id == "training-steps"
        column = app.query_one("#config")
        assert column.region.contains_region(app.focused.region)
        await type_into(pilot, "training.steps", "5000")
        assert app.runner.config.training.steps == 5000
        await pilot.press("escape", "space")
        assert app.runner.state == "running"


async def test_no_color_draws_plots_with_marker_characters(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        assert app.no_color
        await pilot.press("n", "n", "n")
        assert status(app).startswith("PAUSED  step 3")
        panel = app.query_one(PlotsPanel)
        await wait_until(pilot, lambda: panel.draws > 0)
        text = plot_text(app, "loss")
        assert "•" in text and not set("▘▝▀▖▌▞▛▗▚▐▜▄▙▟█") & set(text)  # mono marker, no blocks
