"""A sweep on a Dask cluster (a LocalCluster on this machine) gives the local sweep."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import ConfigError
from engine.sweep import dask_executor, parse_grid, run_sweep
from tests.engine.test_sweep import BASE, GRID, assert_same_members, sweep_in
from tui_nn.cli import main

distributed = pytest.importorskip("distributed")


@pytest.fixture
def scheduler() -> Iterator[str]:
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def test_a_dask_cluster_gives_the_local_sweep(tmp_path: Path, scheduler: str) -> None:
    local = tmp_path / "local"
    sweep_in(local, seeds=2)
    on_dask = tmp_path / "dask"
    with dask_executor(scheduler) as (executor, slots):
        assert slots == 2
        result = run_sweep(BASE, parse_grid(GRID), 2, on_dask, executor, slots=slots)
    assert not result.stopped and result.ran == 8
    assert_same_members(local, on_dask)


def test_without_distributed_the_message_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    with (
        pytest.raises(ConfigError, match=r'pip install "tui-nn\[dask\]"') as caught,
        dask_executor("tcp://127.0.0.1:1"),
    ):
        pass
    assert caught.value.field == "--scheduler"


def test_the_cli_runs_a_sweep_on_the_scheduler(
    tmp_path: Path, scheduler: str, capsys: pytest.CaptureFixture[str]
) -> None:
    local = tmp_path / "local"
    sweep_in(local, seeds=1)
    on_dask = tmp_path / "dask"
    small = ["--steps", "30", "--eval-every", "10", "--batch-size", "32", "--hidden", "6,6"]
    grid = [arg for g in GRID for arg in ("--grid", g)]
    args = ["sweep", *small, *grid, "--out", str(on_dask), "--scheduler", scheduler]
    assert main(args) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"done: 4 members in {on_dask}"
    assert_same_members(local, on_dask)
    with pytest.raises(SystemExit) as exit_:
        main([*args[:-2], "--scheduler", scheduler, "--workers", "2"])
    assert exit_.value.code == 2
    assert "--workers: sets the local pool" in capsys.readouterr().err
