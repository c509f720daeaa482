"""The engine's layers import one way (sweep -> {lecture, store} -> train -> config ->
{data, nn}), with no cycle between modules, and nothing of the UI, torch or rich."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"

# What each sub-package may import besides itself and the base modules.
ALLOWED: dict[str, set[str]] = {
    "nn": set(),
    "data": set(),
    "config": {"nn", "data"},
    "train": {"config", "nn", "data"},
    "store": {"train", "config", "nn", "data"},
    "lecture": {"train", "config", "nn", "data"},
    "sweep": {"lecture", "store", "train", "config", "nn", "data"},
}
BASE = {"errors", "registry", "thresholds"}  # imported by any layer; they import no engine module
FORBIDDEN = ("textual", "plotext", "textual_plotext", "tui_nn", "rich", "torch")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def engine_files() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


def imports_of(path: Path) -> set[str]:
    """Every module an engine file imports, at any depth of the file (function bodies and
    TYPE_CHECKING blocks too: a deferred import is still a dependency)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from engine.nn import layers` imports the module engine.nn.layers
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def engine_imports(path: Path) -> set[str]:
    modules = {module_name(p) for p in engine_files()}
    return {name for name in imports_of(path) if name in modules and name != "engine"}


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_module_belongs_to_a_layer() -> None:
    for path in engine_files():
        name = module_name(path)
        layer = layer_of(name)
        assert name == "engine" or layer in ALLOWED or layer in BASE, name


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_the_layers_below(layer: str) -> None:
    bad = []
    for path in sorted((ENGINE / layer).rglob("*.py")):
        for target in engine_imports(path):
            other = layer_of(target)
            if other not in ALLOWED[layer] | BASE | {layer}:
                bad.append(f"{module_name(path)} imports {target}")
    assert bad == []


def test_base_modules_import_no_engine_module() -> None:
    for name in BASE:
        assert engine_imports(ENGINE / f"{name}.py") == set()


def test_no_import_cycles() -> None:
    graph = {module_name(p): engine_imports(p) for p in engine_files()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_checker_sees_a_deferred_import(tmp_path: Path) -> None:
    """An import inside a function is a dependency too: the checker must see it."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from engine.config import ExperimentConfig\n")
    assert "engine.config" in imports_of(bad)


def test_engine_imports_no_ui_torch_or_rich() -> None:
    modules = sorted(module_name(p) for p in engine_files())
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
