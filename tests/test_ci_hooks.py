"""tests/conftest.py's parity guard, in small inner pytest sessions: under CI=true a session
whose parity tests did not all run fails and says why; locally a skip stays a skip."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()
PASSING = "def test_loss_matches():\n    assert 1.0 + 1.0 == 2.0\n"
SKIPPED = "import pytest\n\ndef test_adam_matches():\n    pytest.skip('no float64 today')\n"


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A session with the suite's conftest, CI=true, no plugins beyond pytest's own, and an
    importable torch: a stand-in module, since the guard only imports it."""
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(torch="")
    pytester.makepyfile(test_other="def test_other():\n    pass\n")
    return pytester


def run(inner: pytest.Pytester, *args: str) -> pytest.RunResult:
    # In a new process: this one may hold the real torch and test_parity_torch modules.
    # Its working directory (the inner folder) comes first on sys.path: torch.py is found.
    return inner.runpytest_subprocess(*args)


def test_a_skipped_parity_test_fails_the_ci_session(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_parity_torch=PASSING + "\n" + SKIPPED)
    result = run(inner)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=2, skipped=1)  # no test failed: the guard failed the session
    result.stdout.fnmatch_lines(
        [
            "*PyTorch parity tests (CI=true)*",
            "*test_parity_torch.py::test_adam_matches skipped: Skipped: no float64 today",
        ]
    )


def test_a_ci_session_whose_parity_tests_all_pass_passes(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_parity_torch=PASSING)
    result = run(inner)
    assert result.ret == pytest.ExitCode.OK
    assert "PyTorch parity" not in result.stdout.str()


def test_missing_torch_fails_the_ci_session(inner: pytest.Pytester) -> None:
    inner.makepyfile(torch="raise ImportError('No module named torch (a test stand-in)')")
    inner.makepyfile(test_parity_torch=PASSING)
    result = run(inner)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["*torch cannot be imported (ImportError: No module named torch*); the README's test*"]
    )


def test_a_parity_module_skipped_at_import_fails_the_ci_session(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_parity_torch="import pytest\n\n"
        "pytest.importorskip('no_such_torch', reason='parity needs torch')\n\n" + PASSING
    )
    result = run(inner)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*test_parity_torch.py not collected: *parity needs torch"])


def test_no_parity_module_fails_the_ci_session(inner: pytest.Pytester) -> None:
    result = run(inner)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*no parity test collected*test_parity_torch.py*"])


def test_a_deselected_parity_test_fails_the_ci_session(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_parity_torch=PASSING + "\n\ndef test_sgd_matches():\n    pass\n")
    result = run(inner, "-k", "not sgd")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*test_parity_torch.py::test_sgd_matches deselected"])


def test_a_parity_test_that_never_ran_fails_the_ci_session(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_parity_torch=PASSING)
    result = run(inner, "--collect-only")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # collected, listed, not run
    result.stdout.fnmatch_lines(["*test_parity_torch.py::test_loss_matches did not run"])


def test_without_ci_a_skipped_parity_test_only_skips(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI")
    inner.makepyfile(test_parity_torch=SKIPPED)
    result = run(inner, "-rs")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*Not all of them ran; under CI=true this session would fail:",
            "*test_parity_torch.py::test_adam_matches skipped: Skipped: no float64 today",
            "SKIPPED*no float64 today",
        ]
    )
