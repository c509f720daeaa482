"""What the whole suite shares: under CI the PyTorch parity tests must run.

The parity tests (tests/engine/test_parity_torch.py, against PyTorch in float64) are the
proof that the engine computes what it claims. Locally a missing torch skips them with a
reason; under CI (the environment variable CI=true, as CI runs `.ci/run`) the session
fails, saying why, when torch cannot be imported or any parity test was not collected,
deselected, skipped or did not run.
"""

from __future__ import annotations

import importlib
import os

import pytest

PARITY_MODULE = "test_parity_torch.py"  # a parity test is any test in a file of this name
INSTALL_TORCH = 'pip install ".[test]" torch==2.13.0'  # the README's test command
MAX_LISTED = 10  # problems listed one by one; the rest are counted


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def is_parity(nodeid: str) -> bool:
    path = nodeid.split("::", 1)[0]
    return path.rsplit("/", 1)[-1] == PARITY_MODULE


def reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    """A skip's reason (its longrepr is (path, line, message)), else the report's last line."""
    wasxfail = getattr(report, "wasxfail", None)
    if wasxfail is not None:
        return f"xfail: {wasxfail}" if wasxfail else "xfail"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):
        return str(longrepr[2])
    lines = str(longrepr).strip().splitlines()
    return lines[-1] if lines else "no reason given"


class ParityGuard:
    """Follows the parity tests through collection and the run, and fails a CI session
    in which they did not all run."""

    def __init__(self) -> None:
        self.torch_error: str | None = None
        self.not_collected: dict[str, str] = {}  # a module skipped or broken at collection
        self.collected: set[str] = set()
        self.deselected: list[str] = []
        self.skipped: dict[str, str] = {}
        self.ran: set[str] = set()
        self.problems: list[str] = []

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not in_ci():
            return  # locally the parity module's importorskip says it, without the import cost
        try:
            importlib.import_module("torch")
        except Exception as exc:  # ImportError, or a broken install failing at import
            self.torch_error = f"{type(exc).__name__}: {exc}"

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if is_parity(report.nodeid) and not report.passed:
            self.not_collected[report.nodeid] = reason(report)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += [item.nodeid for item in items if is_parity(item.nodeid)]

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = {item.nodeid for item in session.items if is_parity(item.nodeid)}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not is_parity(report.nodeid):
            return
        if report.skipped:  # a skip at setup or in the test, or an xfail
            self.skipped[report.nodeid] = reason(report)
        elif report.when == "call":
            self.ran.add(report.nodeid)

    def check(self) -> list[str]:
        """Why the parity tests did not all run; empty when they did."""
        problems = []
        if self.torch_error is not None:
            problems.append(
                f"torch cannot be imported ({self.torch_error}); "
                f"the README's test command installs it: {INSTALL_TORCH}"
            )
        problems += [f"{nodeid} not collected: {why}" for nodeid, why in self.not_collected.items()]
        if not self.collected and not self.not_collected:
            problems.append(f"no parity test collected (no test in a file named {PARITY_MODULE})")
        problems += [f"{nodeid} deselected" for nodeid in self.deselected]
        problems += [f"{nodeid} skipped: {why}" for nodeid, why in sorted(self.skipped.items())]
        missing = self.collected - self.ran - set(self.skipped)
        problems += [f"{nodeid} did not run" for nodeid in sorted(missing)]
        return problems

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.problems = self.check()
        if in_ci() and self.problems and exitstatus in (0, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        listed = self.problems[:MAX_LISTED]
        if len(self.problems) > MAX_LISTED:
            listed.append(f"... and {len(self.problems) - MAX_LISTED} more")
        if in_ci() and self.problems:
            terminalreporter.section("PyTorch parity tests (CI=true)", red=True, bold=True)
            terminalreporter.line("The session fails: under CI every parity test must run.")
            for line in listed:
                terminalreporter.line(f"  {line}", red=True)
        elif self.not_collected or self.skipped:
            # Not collecting them is normal when running part of the suite; skipping is not.
            terminalreporter.section("PyTorch parity tests", yellow=True)
            terminalreporter.line("Not all of them ran; under CI=true this session would fail:")
            for line in listed:
                terminalreporter.line(f"  {line}", yellow=True)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(ParityGuard(), "tui-nn-parity-guard")
