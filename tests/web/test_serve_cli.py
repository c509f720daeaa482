"""`tui-nn serve`'s options: the lab's go through to each tab's command unchanged, bad
ones are refused with a message naming them, and without the web extra it says what to
install."""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tui_nn.cli import build_parser, config_from_args, main
from tui_nn.cli.options import OPTIONS
from tui_nn.cli.serve import shown_url
from tui_nn.web.command import lab_argv, lab_command


def served_lab_args(*argv: str) -> list[str]:
    """The lab's argv that `tui-nn ARGV` (a serve command) gives each tab."""
    return lab_argv(build_parser().parse_args(list(argv)))


def test_the_experiment_options_reach_the_lab_as_given(tmp_path: Path) -> None:
    config = tmp_path / "exp.toml"
    config.write_text('[model]\nactivation = "tanh"\n[training]\nsteps = 321\n')
    options = ["--config", str(config), "--lr", "0.0371", "--hidden", "8,4", "--no-standardize"]
    options += ["--dataset", "circles", "--seed", "3"]
    served = build_parser().parse_args(["serve", "--port", "9000", *options])
    lab = build_parser().parse_args(lab_argv(served))
    assert lab.command is None  # the lab itself, no subcommand
    assert config_from_args(lab) == config_from_args(served)
    assert config_from_args(lab).model.activation == "tanh"


# An option's text for each kind of field (a new kind fails the test below until added).
SAMPLES = {"int": "3", "float": "0.25", "widths": "8,4", "names": "x1,x2", "path": "d.csv"}
SAMPLES |= {"text": "y", "bool": ""}


def test_every_experiment_option_reaches_the_lab_as_parsed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for flag, field in OPTIONS.items():
        assert field.kind in SAMPLES or field.kind == "choice", f"add a sample for {field.kind}"
        if field.kind == "choice":
            text = field.choices()[-1] if field.choices else "x"
        else:
            text = SAMPLES[field.kind]
        given = [flag] if field.kind == "bool" else [flag, text]
        for option in [given, [f"--no-{flag[2:]}"]] if field.kind == "bool" else [given]:
            served = build_parser().parse_args(["serve", *option])
            lab = build_parser().parse_args(lab_argv(served))
            dest = flag[2:].replace("-", "_")
            expected = getattr(served, dest)
            if field.kind == "path":
                expected = str(tmp_path / text)
            assert getattr(lab, dest) == expected, option


def test_the_lab_options_and_paths_reach_the_lab(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    argv = served_lab_args("--fps", "3", "serve", "--scenario", "dead_relu", "--lr", "0.1")
    assert argv[:4] == ["--fps", "3.0", "--scenario", "dead_relu"]
    assert argv[4:] == ["--lr", "0.1"]
    argv = served_lab_args("serve", "--open", "runs/a", "--no-mouse")
    assert argv == ["--fps", "5.0", "--no-mouse", "--open", str(tmp_path / "runs/a")]
    argv = served_lab_args("serve", "--data", "d.csv")
    assert argv[-2:] == ["--data", str(tmp_path / "d.csv")]


def test_the_command_is_quoted_for_the_shell() -> None:
    odd = ["--config", "/tmp/my exp's; rm -rf ~.toml"]
    command = lab_command(odd)
    assert command.startswith("exec ")
    assert shlex.split(command)[1:] == [sys.executable, "-m", "tui_nn", *odd]


@pytest.mark.parametrize(
    ("argv", "told"),
    [
        (["--port", "0"], "--port: expected a port from 1 to 65535"),
        (["--port", "http"], "--port: expected a whole number"),
        (["--max-sessions", "0"], "--max-sessions: expected a whole number >= 1"),
        (["--token", "short"], "--token: expected at least 8 characters"),
        (["--token", "has space 123"], "--token: expected at least 8 characters"),
        (["--public-url", "ftp://host"], "--public-url: expected an address like"),
        (["--public-url", "lab.example.org"], "--public-url: expected an address like"),
        (["--scenario", "nope"], "--scenario: unknown scenario 'nope'"),
        (["--fps", "0"], "--fps: must be a number above 0"),
        (["--config", "/nonexistent/exp.toml"], "/nonexistent/exp.toml"),
        (["--open", "/nonexistent/run"], "/nonexistent/run"),
        (["--lr", "-1"], "optimizer.lr: must be a finite number > 0"),
    ],
)
def test_bad_options_are_told_without_a_traceback(argv: list[str], told: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["serve", *argv])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert told in err
    assert "Traceback" not in err


def test_without_the_web_extra_it_says_what_to_install() -> None:
    # None in sys.modules makes the import fail, as when textual-serve is not installed.
    code = (
        "import sys; sys.modules['textual_serve'] = None\n"
        "from tui_nn.cli import main; raise SystemExit(main(['serve']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert 'pip install "tui-nn[web]"' in done.stderr
    assert "Traceback" not in done.stderr


def test_the_printed_address_names_where_to_connect(monkeypatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "teacher-pc")

    def shown(*argv: str) -> str:
        return shown_url(build_parser().parse_args(["serve", *argv]), "t0ken-123")

    assert shown() == "http://127.0.0.1:8000/?token=t0ken-123"
    assert shown("--host", "0.0.0.0", "--port", "9000") == "http://teacher-pc:9000/?token=t0ken-123"
    assert shown("--host", "::1") == "http://[::1]:8000/?token=t0ken-123"
    assert shown("--public-url", "https://lab.example.org") == (
        "https://lab.example.org/?token=t0ken-123"
    )


def test_a_port_in_use_is_told_before_anything_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        argv = [sys.executable, "-m", "tui_nn", "serve", "--port", port]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"--port: cannot listen on 127.0.0.1:{port}" in done.stderr
    assert done.stdout == ""  # no address printed, no lab started
    assert "Traceback" not in done.stderr
