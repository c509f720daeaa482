"""What the lab reads off the run, above the status line: the scenario's claim with its
live verdict and what to look at, and the advisor's messages (warnings first), each with
its number. Each line is cut to the width (lab.tcss) until w expands them all.

Both come from the polled snapshot (the runner judges and advises at most twice a second
on its own thread); these widgets only format text. Plain text, no markup: messages hold
brackets, and the words (OBSERVED, warning) carry the meaning without colour.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from engine.lecture.advisor import WARNING
from engine.lecture.scenarios import NOT_OBSERVED, OBSERVED
from tui_nn.core.runner import Snapshot

STATUS_STYLES: dict[str, str] = {OBSERVED: "bold green", NOT_OBSERVED: "bold red"}


def numbers_text(numbers: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.3g}" for name, value in numbers.items())


def claim_text(snap: Snapshot) -> Text:
    """The scenario's name and claim (or the counter-example's change); empty without one."""
    scenario = snap.scenario
    if scenario is None:
        return Text()
    text = Text(f"{scenario.name}: ", style="bold")
    if snap.counterexample:
        text.append(f"counter-example ({scenario.counterexample}) of: ", style="italic")
    text.append(scenario.claim)
    return text


def verdict_text(snap: Snapshot) -> Text:
    """The verdict and its numbers (what a counter-example should show: NOT OBSERVED)."""
    text = Text()
    if snap.scenario is None:
        return text
    verdict = snap.verdict
    if verdict is None:
        text.append("verdict: waiting for the run")
        return text
    text.append(verdict.status.upper(), style=STATUS_STYLES.get(verdict.status, "bold"))
    text.append(f"  {verdict.summary}")
    if verdict.numbers:
        text.append(f"  ({numbers_text(verdict.numbers)})", style="dim")
    return text


def look_text(snap: Snapshot) -> Text:
    """What to look at to see the claim (on the plot the lab switched to)."""
    scenario = snap.scenario
    if scenario is None or not scenario.look_at:
        return Text()
    text = Text("look at: ", style="italic")
    text.append(scenario.look_at)
    return text


def advice_text(snap: Snapshot) -> Text:
    """One line per advice, warnings first (each cut to the width), numbered when there
    are several (the narrow screen shows the first line only); a quiet line when there is
    none."""
    text = Text()
    if not snap.advice:
        if snap.step == 0:
            text.append("advisor: watches the run once it trains", style="dim")
        else:
            text.append("advisor: nothing to flag", style="dim")
        return text
    for i, advice in enumerate(snap.advice):
        if i:
            text.append("\n")
        warning = advice.level == WARNING
        text.append("warning " if warning else "note    ", style="bold" if warning else "dim")
        if len(snap.advice) > 1:
            text.append(f"{i + 1}/{len(snap.advice)} ", style="bold" if warning else "dim")
        text.append(advice.message)
    return text


class ScenarioLine(Vertical):
    """The running scenario's claim, its verdict and what to look at; hidden without a
    scenario."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._key: tuple[object, ...] | None = None
        self.display = False

    def compose(self) -> ComposeResult:
        yield Static("", markup=False, id="verdict-claim")
        yield Static("", markup=False, id="verdict-status")
        yield Static("", markup=False, id="verdict-look")

    def refresh_from(self, snap: Snapshot) -> None:
        key = (snap.scenario, snap.counterexample, snap.verdict)
        if key == self._key:
            return
        self._key = key
        self.display = snap.scenario is not None
        self.query_one("#verdict-claim", Static).update(claim_text(snap))
        self.query_one("#verdict-status", Static).update(verdict_text(snap))
        look = self.query_one("#verdict-look", Static)
        text = look_text(snap)
        look.update(text)
        look.display = bool(text)


class AdviceLine(Static):
    """The advisor's messages; updated only when they change."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__("", markup=False, id=id)
        self._key: tuple[object, ...] | None = None

    def refresh_from(self, snap: Snapshot) -> None:
        key = (snap.advice, snap.step == 0)
        if key == self._key:
            return
        self._key = key
        self.set_class(any(a.level == WARNING for a in snap.advice), "-warning")
        self.update(advice_text(snap))
