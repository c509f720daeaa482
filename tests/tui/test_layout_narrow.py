"""The lab at 80x24 (an SSH terminal), 40x12 and 120x40, read off the screen as the
terminal shows it: the plot's rows, the whole status line, every config field, whole
footer keys, cut lines that expand, notifications above the status line."""

from __future__ import annotations

import dataclasses
import io
import itertools
from typing import Any

import pytest
from pilot_helpers import CONFIG, looked_at_the_end, wait_until
from rich.console import Console
from textual.screen import Screen
from textual.widget import Widget

from engine.lecture.scenarios import SCENARIOS
from tui_nn.app import LabApp
from tui_nn.commands import LabFooter
from tui_nn.core.runner import Snapshot
from tui_nn.widgets.config_panels import Field
from tui_nn.widgets.observations import verdict_text
from tui_nn.widgets.plots import PlotsPanel
from tui_nn.widgets.status import StatusLine, status_parts

pytestmark = pytest.mark.usefixtures("ui_idle")

NARROW = (80, 24)


def screen_rows(app: LabApp, screen: Screen[Any] | None = None) -> list[str]:
    """The lab's screen (or `screen`) as the terminal shows it, one string a row."""
    console = Console(
        width=app.size.width,
        record=True,
        color_system=None,
        file=io.StringIO(),
        legacy_windows=False,
    )
    console.print((screen or app.lab_screen)._compositor.render_update(full=True))
    return console.export_text().splitlines()[: app.size.height]


def rows_of(app: LabApp, widget: Widget) -> list[str]:
    """The screen rows a widget covers, cut to its columns."""
    region = widget.region
    rows = screen_rows(app)[region.y : region.bottom]
    return [row[region.x : region.right] for row in rows]


def long_run(snap: Snapshot) -> Snapshot:
    """The snapshot with the numbers of a long run: seven-digit steps, tiny losses."""
    assert snap.last is not None and snap.last_eval is not None
    return dataclasses.replace(
        snap,
        step=1_234_567,
        epoch=329_217.9,
        last=dataclasses.replace(snap.last, loss=1.234e-05),
        last_eval=dataclasses.replace(
            snap.last_eval, step=1_234_500, train_loss=2.345e-05, val_loss=0.01234
        ),
    )


def plot_rows(app: LabApp) -> int:
    """The rows of the visible plot's canvas: those with its y axis (│ or a ┤ tick) above
    the corner └ where the x axis starts."""
    panel = app.query_one(PlotsPanel)
    rows = rows_of(app, app.query_one(f"#plot-{panel.active_key}"))
    corner = next(i for i, row in enumerate(rows) if "└" in row)
    axis = rows[corner].index("└")
    return sum(1 for row in rows[:corner] if row[axis : axis + 1] in ("│", "┤"))


# ------------------------------------------------------------------ status line


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (40, 12)], ids=str)
async def test_the_status_line_is_whole_with_a_long_runs_numbers(size) -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=size) as pilot:
        await pilot.press("n")
        snap = long_run(app.runner.snapshot())
        status = app.query_one(StatusLine)
        status.refresh_from(snap)
        await pilot.pause()
        shown = " ".join(" ".join(row.split()) for row in rows_of(app, status))
        for part in status_parts(snap):
            assert " ".join(part.split()) in shown, part
        assert "…" not in shown
        assert status.region.bottom <= app.query_one(LabFooter).region.y


async def test_the_status_line_labels_each_number() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("n")
        snap = app.runner.snapshot()
        assert snap.last is not None and snap.last_eval is not None
        text = " ".join(rows_of(app, app.query_one(StatusLine)))
        assert f"batch loss {snap.last.loss:.4g}" in text
        assert f"eval at step {snap.last_eval.step}: train {snap.last_eval.train_loss:.4g}" in text
        assert f"val {snap.last_eval.val_loss:.4g} acc" in text


# ------------------------------------------------------------------------ plots


async def test_the_plot_has_ten_rows_at_80x24_even_with_a_scenario_on() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("n")
        assert plot_rows(app) >= 10
        app.start_scenario(SCENARIOS["zero_init"])
        await wait_until(pilot, lambda: app.query_one("#verdict").display)
        await pilot.pause()
        assert plot_rows(app) >= 10
        app.query_one(StatusLine).refresh_from(long_run(app.runner.snapshot()))
        await pilot.pause()
        assert plot_rows(app) >= 10


# ------------------------------------------------------------------ the config


async def test_the_panels_are_named_at_80x24_and_a_click_shows_the_learning_rate() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        tabs = app.query_one("#panel-tabs")
        row = rows_of(app, tabs)[0]
        assert row.split() == ["Data", "Model", "Optimizer"]
        await pilot.click("#panel-tabs", offset=(row.index("Optimizer") + 2, 0))
        await pilot.pause()
        column = app.query_one("#config")
        lr = app.query_one("#optimizer-lr")
        assert lr.display and column.region.contains_region(lr.region)
        assert any("lr" in row.split() for row in rows_of(app, column))


async def test_tab_reaches_every_field_at_80x24_and_shows_it() -> None:
    # Momentum and a step schedule show three more fields: the most a config has.
    config = CONFIG.with_changes(optimizer={"name": "momentum", "schedule": "step"})
    app = LabApp(config)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        column = app.query_one("#config")
        wanted = [f.control.id for f in app.query(Field) if f.display]
        reached: list[str] = []
        for _ in wanted:
            await pilot.press("tab")
            focused = app.focused
            assert focused is not None and focused.id is not None
            reached.append(focused.id)
            assert column.region.contains_region(focused.region), focused.id
        assert reached == wanted
        await pilot.press("tab")  # around again, to the first
        assert app.focused is not None and app.focused.id == wanted[0]


# ------------------------------------------------------------------- the footer


def footer_row(app: LabApp) -> str:
    return screen_rows(app)[app.query_one(LabFooter).region.y]


def shown_keys(app: LabApp) -> list[Widget]:
    return [key for key in app.query_one(LabFooter).children if key.display]


@pytest.mark.parametrize("width", [40, 80, 120])
async def test_the_footer_reads_whole_keys(width: int) -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        keys = shown_keys(app)
        assert keys
        expected = " ".join(str(key.render()).strip() for key in keys)
        assert " ".join(footer_row(app).split()) == " ".join(expected.split())
        for key in keys:
            assert key.region.right <= width
        ends = sorted((k.region.x, k.region.right) for k in keys)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(ends))


async def test_the_footer_keeps_the_run_keys_at_40_and_shows_the_lecture_views_at_120() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=(40, 12)) as pilot:
        run_keys = "space run n step r reset ? help q quit"
        await wait_until(pilot, lambda: " ".join(footer_row(app).split()) == run_keys)
        await pilot.resize_terminal(120, 40)
        await wait_until(pilot, lambda: "depth" in footer_row(app))
        row = footer_row(app)
        for label in ("s scenarios", "d depth", "g gradcheck", "m matrix", "i notes"):
            assert label in row


@pytest.mark.parametrize("key", ["s", "d", "g", "m", "i"])
async def test_each_view_reads_whole_keys_at_40_columns(key: str) -> None:
    """A lecture view's footer keeps whole keys and its frame cuts no hint at 40 columns."""
    app = LabApp(CONFIG)
    async with app.run_test(size=(40, 24)) as pilot:
        await pilot.press(key)
        await wait_until(pilot, lambda: app.screen is not app.lab_screen)
        footer = app.screen.query_one(LabFooter)

        def shown_keys() -> str:
            return " ".join(str(k.render()).strip() for k in footer.children if k.display)

        def footer_reads_its_keys() -> bool:
            row = screen_rows(app, app.screen)[footer.region.y]
            return bool(shown_keys()) and " ".join(row.split()) == " ".join(shown_keys().split())

        # A view may change its keys as it works (gradcheck's "r check again" comes when
        # the check is done): the row is read once the screen has painted the keys it has.
        await wait_until(pilot, footer_reads_its_keys)
        rows = screen_rows(app, app.screen)
        keys = [k for k in footer.children if k.display]
        assert all(k.region.right <= 40 for k in keys)
        assert not any("…" in row for row in rows[footer.region.y - 1 : footer.region.y + 1])


# ------------------------------------------------------------------ cut lines


async def test_w_expands_the_cut_verdict_and_advice_and_cuts_them_again() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=NARROW) as pilot:
        app.start_scenario(SCENARIOS["zero_init"])
        await wait_until(pilot, lambda: app.runner.state == "done", timeout=30)
        await wait_until(pilot, lambda: looked_at_the_end(app.runner.snapshot()))
        app.poll()
        await pilot.pause()
        verdict = app.query_one("#verdict-status")
        whole = " ".join(verdict_text(app.runner.snapshot()).plain.split())
        assert len(whole) > verdict.region.width  # too long for one line: cut
        assert verdict.region.height == 1
        assert whole not in " ".join(rows_of(app, verdict))
        await pilot.press("w")
        shown = " ".join(" ".join(rows_of(app, verdict)).split())
        assert whole in shown
        await pilot.press("w")
        assert verdict.region.height == 1


# ----------------------------------------------------------------------- reset


async def test_r_on_a_long_run_asks_first(monkeypatch) -> None:
    from tui_nn.screens.files import ConfirmModal

    monkeypatch.setattr("tui_nn.app.LONG_RUN_STEPS", 5)
    app = LabApp(CONFIG)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press(*"nnnnn", "r")  # 5 steps: not long, reset at once
        assert app.runner.snapshot().step == 0
        await pilot.press(*"nnnnnn", "r")
        assert isinstance(app.screen, ConfirmModal)
        assert "6 steps are done" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, ConfirmModal)
        assert app.runner.snapshot().step == 6  # kept
        await pilot.press("r", "r")
        assert app.runner.snapshot().step == 0
        assert not isinstance(app.screen, ConfirmModal)


# --------------------------------------------------------------- notifications


async def test_a_notification_never_covers_the_status_line() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=NARROW, notifications=True) as pilot:
        app.start_scenario(SCENARIOS["zero_init"])  # the readouts at their tallest
        await pilot.pause()
        app.notify("a long notification " * 6, timeout=30)
        await wait_until(pilot, lambda: bool(app.lab_screen.query("Toast")))
        await pilot.pause()
        toast = app.lab_screen.query("Toast").last()
        readouts = app.query_one("#readouts")
        assert toast.region.bottom <= readouts.region.y


# ------------------------------------------------------------ the model panel


async def test_the_model_panel_shows_the_parameter_count() -> None:
    app = LabApp(CONFIG.with_changes(model={"hidden": [16, 16]}))
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        count = app.runner.read(lambda t: t.network.theta.size)
        assert count == 2 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3  # spiral: 2 inputs, 3 classes
        assert str(app.query_one("#parameter-count").render()) == f"{count:,}"
        app.query_one("#model-activation").value = "maxout"  # k = 2 pieces a unit
        await wait_until(pilot, lambda: app.runner.config.model.activation == "maxout")
        await pilot.pause()
        count = app.runner.read(lambda t: t.network.theta.size)
        assert str(app.query_one("#parameter-count").render()) == f"{count:,}"


async def test_one_neuron_shows_no_hidden_activation_card() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.query_one("#activation-note").display
        await pilot.press("minus", "minus")
        assert app.runner.config.model.hidden == []
        assert not app.query_one("#activation-note").display
        assert app.query_one("#init-note").display
        await pilot.press("plus")
        assert app.query_one("#activation-note").display


# -------------------------------------------------------------------- scenarios


async def test_a_scenario_shows_its_plot_and_what_to_look_at() -> None:
    scenario = next(s for s in SCENARIOS.values() if s.plot != 1 and s.look_at)
    app = LabApp(CONFIG)
    async with app.run_test(size=(120, 40)) as pilot:
        app.start_scenario(scenario)
        await pilot.pause()
        assert app.query_one(PlotsPanel).active == scenario.plot
        look = app.query_one("#verdict-look")
        assert look.display
        assert scenario.look_at[:40] in " ".join(rows_of(app, look))


async def test_the_help_screen_wraps_its_lines_at_80x24() -> None:
    from tui_nn.commands import LAB_ACTIONS

    app = LabApp(CONFIG)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        keys = app.screen.query_one("#help-keys").region
        rows = [row[keys.x : keys.right] for row in screen_rows(app, app.screen)]
        reset = next(entry for entry in LAB_ACTIONS if entry.key == "r")
        at = next(i for i, row in enumerate(rows) if reset.help[:20] in row)
        column = rows[at].index(reset.help[:20])
        shown = " ".join(row[column:].strip() for row in rows[at : at + 2])
        assert reset.help in shown  # too long for the width: whole, over two rows


async def test_tab_from_an_open_choice_list_goes_to_the_next_field() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "data-name"
        await pilot.press("enter")  # the list opens, with the focus in it
        await pilot.pause()
        assert app.focused is not None and app.focused.id != "data-name"
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "data-n_classes"


async def test_at_40_columns_the_config_comes_with_tab_or_c_in_place_of_the_plots() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        column, plots = app.query_one("#config"), app.query_one(PlotsPanel)
        assert not column.display and plots.display
        await pilot.press("tab")
        await pilot.pause()
        assert column.display and not plots.display
        assert app.focused is not None and app.focused.id == "data-name"
        await pilot.press("escape", "c")
        await pilot.pause()
        assert not column.display and plots.display
        await pilot.press("c")
        await pilot.pause()
        assert column.display


async def test_c_at_80x24_puts_the_boundary_beside_the_plots() -> None:
    app = LabApp(CONFIG)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("c")
        await pilot.pause()
        plots, boundary = app.query_one(PlotsPanel).region, app.query_one("#boundary").region
        assert plots.x == 0 and boundary.x >= plots.right and plots.y == boundary.y
        assert boundary.height >= 15


def test_a_slow_rate_keeps_its_decimal() -> None:
    """A big net's 3.4 steps/s is not shown as 3; a fast rate stays a whole number."""
    snap = LabApp(CONFIG).runner.snapshot()
    running = dataclasses.replace(snap, state="running")
    assert "3.4 steps/s" in status_parts(dataclasses.replace(running, steps_per_sec=3.42))
    assert "1,234 steps/s" in status_parts(dataclasses.replace(running, steps_per_sec=1234.4))
