"""Experiment files: TOML round trips, defaults for missing keys, errors that name the file."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from engine.config import ConfigError, ExperimentConfig
from engine.store.atomic import atomic_write, atomic_write_text
from engine.store.toml import (
    config_from_toml,
    config_to_toml,
    load_config,
    save_config,
)

CUSTOM = {
    "data": {"name": "moons", "n_samples": 500, "noise": 0.25, "train_fraction": 0.7},
    "model": {"hidden": [], "activation": "tanh", "init": "xavier_uniform", "init_scale": 1e-3},
    "optimizer": {"name": "momentum", "lr": 0.1, "eps": 1e-7, "schedule": "cosine"},
    "training": {"batch_size": 32, "steps": 12345, "seed": 7, "dtype": "float64"},
}


@pytest.mark.parametrize("raw", [{}, CUSTOM], ids=["defaults", "custom"])
def test_save_and_load_give_the_same_config(tmp_path: Path, raw: dict) -> None:
    config = ExperimentConfig.from_dict(raw)
    path = tmp_path / "exp.toml"
    save_config(config, path)
    assert load_config(path) == config
    # The file is plain TOML with every section, so a person can edit it.
    parsed = tomllib.loads(path.read_text())
    assert set(parsed) == {"data", "model", "optimizer", "training"}
    assert parsed["model"]["hidden"] == config.model.hidden
    assert config_from_toml(config_to_toml(config)) == config


def test_floats_survive_exactly(tmp_path: Path) -> None:
    config = ExperimentConfig.from_dict({"optimizer": {"lr": 0.1 + 0.2, "eps": 3e-9}})
    save_config(config, tmp_path / "a.toml")
    loaded = load_config(tmp_path / "a.toml")
    assert loaded.optimizer.lr == 0.1 + 0.2 and loaded.optimizer.eps == 3e-9


def test_missing_keys_take_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "exp.toml"
    path.write_text('[model]\nactivation = "tanh"\n\n[training]\nsteps = 10\n')
    config = load_config(path)
    default = ExperimentConfig()
    assert config.model.activation == "tanh" and config.training.steps == 10
    assert config.model.hidden == default.model.hidden
    assert config.optimizer == default.optimizer and config.data == default.data
    path.write_text("")
    assert load_config(path) == default


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[modle]\nactivation = 'tanh'\n", "modle"),
        ("[model]\nactivaton = 'tanh'\n", "model.activaton"),
        ("[model]\nhidden = 'big'\n", "model.hidden"),
        ("[optimizer]\nlr = -1\n", "optimizer.lr"),
        ("[model]\nactivation = 'nope'\n", "model.activation"),
        ("model = 3\n", "model"),
    ],
)
def test_bad_keys_and_values_name_the_file_and_the_field(
    tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "exp.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and named in str(info.value)


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[model]\nhidden = [16, 16]\nactivation = relu\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message and "not valid TOML" in message and "line 3" in message


@pytest.mark.parametrize("kind", ["missing", "directory", "binary"])
def test_unreadable_files(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "exp.toml"
    if kind == "directory":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match=r"exp\.toml"):
        load_config(path)


def test_relative_data_path_is_taken_from_the_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "exp.toml").write_text('[data]\npath = "data/points.csv"\n')
    monkeypatch.chdir(tmp_path)  # a working directory other than the file's
    config = load_config("exp/exp.toml")
    assert config.data.path == str(folder / "data" / "points.csv")
    (folder / "abs.toml").write_text('[data]\npath = "/srv/points.csv"\n')
    assert load_config(folder / "abs.toml").data.path == "/srv/points.csv"


def test_atomic_write_failure_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "file.txt"
    atomic_write_text(path, "old")

    def half_then_fail(f: object) -> None:
        f.write(b"new but ")  # type: ignore[attr-defined]
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(path, half_then_fail)
    assert path.read_text() == "old"

    def refuse(src: object, dst: object) -> None:
        raise OSError("replace failed")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        atomic_write_text(path, "newer")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]  # no temporary files left


def test_written_files_are_readable_by_others(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "x.toml", "a = 1\n")
    assert (tmp_path / "x.toml").stat().st_mode & 0o044 == 0o044


@pytest.mark.parametrize(
    ("optimizer", "training", "decay_steps"),
    [
        ('schedule = "cosine"\n', "steps = 500\n", 500),  # an old file: its own budget
        ('schedule = "cosine"\n', "", 2000),  # no budget either: the default budget
        ('schedule = "cosine"\ndecay_steps = 300\n', "steps = 500\n", 300),  # said: kept
        ('schedule = "step"\n', "steps = 500\n", 2000),  # no cosine: the default
    ],
    ids=["old-cosine", "old-cosine-default-budget", "decay-steps-given", "step-schedule"],
)
def test_a_cosine_file_without_decay_steps_keeps_its_horizon(
    tmp_path: Path, optimizer: str, training: str, decay_steps: int
) -> None:
    """Before optimizer.decay_steps, cosine decayed over training.steps: an old run keeps
    the schedule it had when it resumes, whatever budget it resumes with."""
    path = tmp_path / "config.toml"
    path.write_text(f"[optimizer]\n{optimizer}\n[training]\n{training}")
    config = load_config(path)
    assert config.optimizer.decay_steps == decay_steps
    resumed = config.with_changes(training={"steps": 4000})  # as --resume --steps 4000 does
    assert resumed.optimizer.decay_steps == decay_steps
    assert load_config(path) == config_from_toml(config_to_toml(config))  # and it is saved


def test_a_file_without_data_seed_keeps_its_data() -> None:
    """Before data.seed, training.seed drew the data: an old file keeps the data it had."""
    old = config_from_toml("[training]\nseed = 5\n")
    assert old.data.seed == 5
    new = config_from_toml("[data]\nseed = 0\n[training]\nseed = 5\n")
    assert new.data.seed == 0
