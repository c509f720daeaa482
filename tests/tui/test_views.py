"""Pilot tests of the lecture views: scenarios with their live verdict, the advisor line,
notes cards, the depth profile, the gradient check and the matrix form."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from pilot_helpers import CONFIG, SIZE, wait_until
from rich.console import Console
from textual.widgets import OptionList, Select, Static

from engine.lecture.scenarios import SCENARIOS
from tui_nn.app import LabApp
from tui_nn.screens.depth import DepthScreen
from tui_nn.screens.gradcheck import GradcheckScreen
from tui_nn.screens.help import HelpScreen
from tui_nn.screens.matrix import MatrixScreen
from tui_nn.screens.notes import NotesScreen
from tui_nn.screens.scenarios import ScenarioScreen

pytestmark = pytest.mark.usefixtures("ui_idle")


def text_of(widget) -> str:
    """What a Static shows, as plain text (strings, Text and rich renderables)."""
    content = widget.content
    if isinstance(content, str):
        return content
    if hasattr(content, "plain"):  # rich Text, textual Content
        return str(content.plain)
    console = Console(width=200, record=True)
    console.print(content)
    return console.export_text()


async def pick_scenario(pilot, name: str) -> None:
    options = pilot.app.screen.query_one(OptionList)
    options.highlighted = list(SCENARIOS).index(name)
    await pilot.pause()


# ------------------------------------------------------------------ scenarios


async def test_s_runs_a_scenario_with_its_live_verdict_then_its_counterexample() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        verdict_line = app.query_one("#verdict")
        assert not verdict_line.display  # no scenario, no verdict line
        await pilot.press("s")
        assert isinstance(app.screen, ScenarioScreen)
        await pick_scenario(pilot, "zero_init")
        assert "Zero init" in text_of(app.screen.query_one("#scenario-details"))
        await pilot.press("enter")
        assert not isinstance(app.screen, ScenarioScreen)
        scenario = SCENARIOS["zero_init"]
        assert app.runner.scenario is scenario and app.runner.config == scenario.config
        # The preset's 150 steps take a fraction of a second: wait for the final verdict.
        await wait_until(pilot, lambda: app.runner.state == "done")
        await wait_until(pilot, lambda: "OBSERVED" in text_of(app.query_one("#verdict-status")))
        assert verdict_line.display
        assert "zero_init" in text_of(app.query_one("#verdict-claim"))
        assert "max_distance" in text_of(app.query_one("#verdict-status"))  # the numbers
        # The advisor says the same in plain words, warnings first.
        advice = text_of(app.query_one("#advice"))
        assert advice.startswith("warning") and "identical" in advice

        # The counter-example: He init instead of zeros; the judge must not see the claim.
        await pilot.press("s")
        assert str(app.screen.query_one(OptionList).highlighted_option.id) == "zero_init"
        await pilot.press("c")
        assert app.runner.config.model.init == "he_normal"
        await wait_until(pilot, lambda: app.runner.state == "done")
        await wait_until(pilot, lambda: "NOT OBSERVED" in text_of(app.query_one("#verdict-status")))
        assert "counter-example" in text_of(app.query_one("#verdict-claim"))

        # x leaves the scenario and keeps the run.
        step = app.runner.snapshot().step
        await pilot.press("s", "x")
        assert app.runner.scenario is None and app.runner.snapshot().step == step
        await wait_until(pilot, lambda: not verdict_line.display)


async def test_v_asks_for_the_scenarios_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    """v in the picker hands the highlighted scenario's name to the app's compare view,
    and the picker says which runs that is."""
    wanted: list[str] = []
    monkeypatch.setattr(LabApp, "on_comparison_wanted", lambda self, e: wanted.append(e.name))
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await pick_scenario(pilot, "dead_relu")
        shown = text_of(app.screen.query_one("#scenario-details"))
        assert "side by side: relu, leaky_relu, maxout" in shown
        await pilot.press("v")
        await wait_until(pilot, lambda: wanted == ["dead_relu"])
        assert not isinstance(app.screen, ScenarioScreen)


async def test_a_field_change_keeps_the_scenario_and_its_judge() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        app.start_scenario(SCENARIOS["dead_relu"])
        await wait_until(pilot, lambda: app.runner.state == "done")
        app.query_one("#model-activation", Select).value = "leaky_relu"
        await pilot.pause()
        assert app.runner.scenario is SCENARIOS["dead_relu"]
        assert app.runner.snapshot().step == 0  # a new run of the changed preset
        await pilot.press("space")
        await wait_until(pilot, lambda: app.runner.state == "done")
        await wait_until(pilot, lambda: "NOT OBSERVED" in text_of(app.query_one("#verdict-status")))


# ---------------------------------------------------------------------- notes


async def test_notes_cards_follow_the_selectors_and_i_lists_every_card() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        activation_note = app.query_one("#activation-note", Static)
        init_note = app.query_one("#init-note", Static)
        assert "[0, inf)" in text_of(activation_note)  # literal brackets: no markup
        assert "dies yes" in text_of(activation_note)
        assert "N(0, 2 / fan_in)" in text_of(init_note)
        app.query_one("#model-activation", Select).value = "tanh"
        await pilot.pause()
        app.query_one("#model-init", Select).value = "xavier_normal"
        await pilot.pause()
        assert "(-1, 1)" in text_of(activation_note) and "centred yes" in text_of(activation_note)
        assert "fan_in + fan_out" in text_of(init_note)

        await pilot.press("i")
        assert isinstance(app.screen, NotesScreen)
        shown = "\n".join(text_of(card) for card in app.screen.query(".notes-card"))
        for title in ("Sigmoid", "ReLU", "Maxout", "He (Kaiming) normal", "Orthogonal"):
            assert title in shown
        assert "[0, inf)" in shown
        current = [text_of(c) for c in app.screen.query(".notes-card.-current")]
        assert len(current) == 2 and any(c.startswith("tanh") for c in current)
        await pilot.press("escape")
        # From the help screen too.
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, NotesScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, NotesScreen))


# ---------------------------------------------------------------- depth profile


async def test_d_shows_the_depth_profile_and_redraws_on_a_new_activation() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "d")
        assert isinstance(app.screen, DepthScreen)
        screen = app.screen
        await wait_until(pilot, lambda: screen.depth is not None)
        table = text_of(screen.query_one("#depth-table"))
        assert screen.depth.source == "net" and len(screen.depth.result.layers) == 2
        assert "histogram" in table and "█" in table
        # The lab's run is untouched: a profile trains nothing.
        assert app.runner.snapshot().step == 1

        # The activation selector here changes the lab's model, and the profile follows.
        screen.query_one("#depth-activation", Select).value = "tanh"
        await wait_until(pilot, lambda: app.runner.config.model.activation == "tanh")
        await wait_until(
            pilot,
            lambda: (
                screen.depth is not None
                and screen.depth.result.saturated is not None
                # tanh can saturate, relu cannot: the new result has tanh's histogram range
                and float(screen.depth.result.layers[0].edges[0]) < 0
            ),
        )

        # The training data as input, then a CS231n preset with its verdict.
        await pilot.press("2")
        await wait_until(pilot, lambda: screen.depth is not None and screen.depth.source == "data")
        await pilot.press("6")  # relu_xavier
        assert not screen.query_one("#depth-model").display  # the preset fixes its model
        await wait_until(pilot, lambda: screen.depth.source == "relu_xavier", timeout=20)
        assert len(screen.depth.result.layers) == 10 and screen.depth.verdict.status == "observed"
        assert "OBSERVED" in text_of(screen.query_one("#depth-table"))
        await pilot.press("escape")
        assert not isinstance(app.screen, DepthScreen)


async def test_a_field_refused_from_a_view_is_told_there_and_the_run_is_kept() -> None:
    """A view asks for a change with FieldEdited, as the panels do; the refusal sits under
    the lab's field, hidden by the view, so it is told as a notification too."""
    from tui_nn.core.fields import ALL_FIELDS
    from tui_nn.messages import FieldEdited

    steps = next(spec for spec in ALL_FIELDS if spec.key == "training.steps")
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "n", "d")
        screen = app.screen
        assert isinstance(screen, DepthScreen)
        run_id = app.runner.snapshot().run_id
        screen.post_message(FieldEdited(steps, 1))
        await wait_until(pilot, lambda: any("refused" in str(n.title) for n in app._notifications))
        notice = next(n for n in app._notifications if "refused" in str(n.title))
        assert "training.steps: cannot be 1: 3 steps are done" in str(notice.message)
        assert app.screen is screen  # the view stays
        assert (app.runner.snapshot().run_id, app.runner.snapshot().step) == (run_id, 3)


async def test_the_depth_profile_computes_off_the_ui_thread(monkeypatch) -> None:
    import tui_nn.screens.depth as depth

    release, threads = threading.Event(), []
    real_compute = depth.compute

    def compute(source, config, n_in):
        threads.append(threading.get_ident())
        # Held until the keys below were answered: a compute on the UI thread would
        # hold the keys too, and the assertions below fail after this wait.
        release.wait(10)
        return real_compute(source, config, n_in)

    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        screen = app.screen
        await wait_until(pilot, lambda: screen.depth is not None)
        monkeypatch.setattr(depth, "compute", compute)
        await pilot.press("3")  # returns while the profile is still held back
        assert "computing" in text_of(screen.query_one("#depth-table"))
        await pilot.press("escape", "n")  # the lab still answers keys meanwhile
        assert app.runner.snapshot().step == 1
        await wait_until(pilot, lambda: bool(threads))
        assert threading.get_ident() not in threads
        release.set()


async def test_depth_keys_pressed_while_computing_run_one_profile_at_a_time(monkeypatch) -> None:
    import tui_nn.screens.depth as depth

    running, most, sources = [0], [0], []
    lock, release = threading.Lock(), threading.Event()
    real_compute = depth.compute

    def compute(source, config, n_in):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            release.wait(10)  # until every key below has come
            sources.append(source)
            return real_compute(source, config, n_in)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(depth, "compute", compute)
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        screen = app.screen
        await pilot.press("2", "1", "2")
        release.set()
        # The keys queue one rerun, for the last source, after the running profile.
        await wait_until(pilot, lambda: screen.depth is not None and len(sources) == 2)
        # Every worker done and its state message handled: a third would have started.
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert most[0] == 1 and sources == ["net", "data"]
        assert screen.depth.source == "data"


async def test_r_while_a_gradient_check_runs_does_not_start_another(monkeypatch) -> None:
    import tui_nn.screens.gradcheck as gradcheck

    started, release = [], threading.Event()
    real_run_check = gradcheck.run_check

    def run_check(data):
        started.append(data.step)
        release.wait(10)  # until every key below has come
        return real_run_check(data)

    monkeypatch.setattr(gradcheck, "run_check", run_check)
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        screen = app.screen
        await pilot.press("r", "r", "r")
        release.set()
        await wait_until(pilot, lambda: screen.rows is not None)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(started) == 1


async def test_a_net_without_hidden_layers_has_nothing_to_profile() -> None:
    app = LabApp(CONFIG.with_changes(model={"hidden": []}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        screen = app.screen
        await wait_until(pilot, lambda: screen.depth is not None)
        assert "No hidden layer" in text_of(screen.query_one("#depth-table"))


# -------------------------------------------------------------- gradient check


async def test_g_checks_the_gradients_of_the_current_net() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "g")
        assert isinstance(app.screen, GradcheckScreen)
        screen = app.screen
        await wait_until(pilot, lambda: screen.rows is not None)
        names = [row.name for row in screen.rows]
        assert names == list(app.runner.read(lambda t: t.network.parameters()))
        assert {row.verdict for row in screen.rows} <= {"good", "ok (kinks)"}
        table = text_of(screen.query_one("#grad-table"))
        assert "layers.0.W" in table and "max rel err" in table
        assert "at step 2" in text_of(screen.query_one("#grad-summary"))
        assert app.runner.snapshot().step == 2  # checked on a copy: the run is untouched
        first = screen.rows
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.rows is not first)
        await pilot.press("escape")
        assert not isinstance(app.screen, GradcheckScreen)


# ---------------------------------------------------------------- matrix form


async def test_m_shows_the_numbers_of_a_small_net_and_n_steps() -> None:
    app = LabApp(CONFIG.with_changes(model={"hidden": [4, 3]}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        assert isinstance(app.screen, MatrixScreen)
        screen = app.screen
        text = text_of(screen.query_one("#matrix-text"))
        for name in ("W1", "b1", "z1", "a1", "W3", "a0 = x"):
            assert name in text
        # The lecture's orientation: W1 is units x inputs, a batch's z2 a column a sample.
        assert "4 x 2" in text and "3 x 64" in text
        before = screen.form.layers[0].W.copy()
        await pilot.press("n")
        assert screen.form.step == 1 and app.runner.snapshot().step == 1
        assert (before != screen.form.layers[0].W).any()  # the step moved the weights
        await pilot.press("space")
        assert screen.form.step == 2 and app.runner.state == "paused"
        await pilot.press("escape")
        assert not isinstance(app.screen, MatrixScreen)


async def test_m_shows_only_shapes_for_a_wide_net() -> None:
    app = LabApp(CONFIG.with_changes(model={"hidden": [100, 16]}))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        text = text_of(app.screen.query_one("#matrix-text"))
        assert "16 x 100" in text and "at most 64 units" in text
        assert "[ " not in text  # no numbers


async def test_the_views_are_in_the_command_palette() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p", *"depth")
        await wait_until(pilot, lambda: app.screen.query_one(OptionList).highlighted is not None)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DepthScreen))


def test_the_matrix_form_of_a_wide_net_reads_shapes_only() -> None:
    from engine import Trainer
    from tui_nn.screens.matrix import read_form

    form = read_form(Trainer(CONFIG.with_changes(model={"hidden": [65, 4]})))
    assert not form.small and form.X.shape[1] == 0
    assert [(f.fan_in, f.units) for f in form.layers] == [(2, 65), (65, 4), (4, 3)]
    assert all(f.W.size == 0 and f.z.size == 0 for f in form.layers)  # no copies, no forward
    assert [f.pieces for f in form.layers] == [1, 1, 1]
    trainer = Trainer(CONFIG.with_changes(model={"hidden": [3], "activation": "maxout"}))
    maxout = read_form(trainer)
    assert maxout.small and [f.pieces for f in maxout.layers] == [2, 1]
    assert [f.activation for f in maxout.layers[:-1]] == ["maxout"]
    # A row per piece of a unit, a column per sample.
    assert maxout.layers[0].z.shape == (6, 3) and maxout.layers[0].a.shape == (3, 3)
    # The numbers are the network's own: its logits for the same samples.
    logits = trainer.network.astype(np.float64).forward(maxout.X.T)
    np.testing.assert_allclose(maxout.layers[-1].a.T, logits, rtol=1e-12)
