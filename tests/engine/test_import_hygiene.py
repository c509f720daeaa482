"""The engine imports NumPy and the standard library only: never the UI, torch or rich."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import engine

FORBIDDEN = ("textual", "plotext", "textual_plotext", "tui_nn", "rich", "torch")


def engine_modules() -> list[str]:
    return ["engine"] + [f"engine.{m.name}" for m in pkgutil.iter_modules(engine.__path__)]


def test_every_engine_module_is_listed() -> None:
    modules = engine_modules()
    for name in ("trainer", "gradcheck", "diagnostics", "config", "network", "history"):
        assert f"engine.{name}" in modules


def test_engine_imports_no_ui_torch_or_rich() -> None:
    modules = engine_modules()
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(modules) <= set(loaded)
    leaked = sorted(m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert leaked == [], f"the engine pulled in {leaked}"
