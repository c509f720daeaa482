"""tui_nn's layers: a core without UI (runner, fields, files import no textual, plotext or
rich), widgets and screens that see only the runner's public types, and an engine that
never imports tui_nn. Every import counts, at any depth of a file (function bodies and
TYPE_CHECKING blocks too: a deferred import is still a dependency)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUI = ROOT / "tui_nn"
UI_LIBRARIES = ("textual", "textual_plotext", "plotext", "rich")
RUNNER = "tui_nn.core.runner"
# What widgets and screens may take from the runner: the snapshot they are shown, and the
# read-only view of the run a view is handed. Commands go through tui_nn.messages.
# What a widget or screen may take from the runner: the snapshot types, the reader, and
# the looks' own functions (a view that draws a look of its own computes it the same way).
RUNNER_PUBLIC = {
    "Snapshot",
    "Boundary",
    "RunReader",
    "boundary_of",
    "boundary_kind",
    "network_over",
}


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, and `module.name` for each name it takes from one."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_there_is_a_core_and_there_are_views() -> None:
    names = {p.name for p in files(TUI / "core")}
    assert {"runner.py", "fields.py", "files.py"} <= names
    assert files(TUI / "widgets") and files(TUI / "screens")


@pytest.mark.parametrize("path", files(TUI / "core"), ids=lambda p: p.name)
def test_the_core_imports_no_ui_library(path: Path) -> None:
    leaked = sorted(name for name in imports_of(path) if within(name, UI_LIBRARIES))
    assert leaked == [], f"{path.relative_to(ROOT)} imports {leaked}"


@pytest.mark.parametrize(
    "path", files(TUI / "widgets") + files(TUI / "screens"), ids=lambda p: p.stem
)
def test_widgets_and_screens_use_only_the_runners_public_types(path: Path) -> None:
    taken = {name for name in imports_of(path) if within(name, (RUNNER,))}
    private = sorted(
        name for name in taken - {RUNNER} if name.removeprefix(RUNNER + ".") not in RUNNER_PUBLIC
    )
    assert private == [], f"{path.relative_to(ROOT)} takes {private} from the runner"
    # `import tui_nn.core.runner` would hand over the module and everything in it.
    assert not any(
        isinstance(node, ast.Import) and any(a.name == RUNNER for a in node.names)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    ), f"{path.relative_to(ROOT)} imports the runner module whole"


@pytest.mark.parametrize("path", files(ROOT / "engine"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_engine_never_imports_tui_nn(path: Path) -> None:
    leaked = sorted(name for name in imports_of(path) if within(name, ("tui_nn",)))
    assert leaked == [], f"{path.relative_to(ROOT)} imports {leaked}"


def test_nothing_in_tui_nn_silences_the_type_checker() -> None:
    """Screens talk to the app through messages or the RunReader they are handed, so mypy
    sees every call: no `type: ignore` (nor a cast to Any of the app) to reach past it."""
    silenced = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in files(TUI)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "type: ignore" in line or "Any = self.app" in line
    ]
    assert silenced == []


def test_the_checker_sees_deferred_and_type_checking_imports(tmp_path: Path) -> None:
    """A function-level or TYPE_CHECKING import is a dependency too: the checker must see it."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from rich.text import Text\n"
        "def f():\n"
        "    import textual.app\n"
        "    from tui_nn.core.runner import _Handoff\n"
    )
    found = imports_of(bad)
    assert {"rich.text", "textual.app", "tui_nn.core.runner._Handoff"} <= found
