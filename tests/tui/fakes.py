"""Stand-ins for a run's history, evaluations and a clock, for the chart and widget tests."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np


class FakeHistory:
    """Stands in for engine.train.history.History: a series per column name."""

    def __init__(self, n: int, n_layers: int = 3, start: int = 1) -> None:
        self.steps = np.arange(start, start + n, dtype=float)
        rng = np.random.default_rng(1)
        self.columns: dict[str, np.ndarray] = {
            "loss": np.exp(-self.steps / max(1, n)) + 0.1 * rng.random(n),
            "accuracy": 1.0 - 0.5 * np.exp(-self.steps / max(1, n)),
        }
        for i in range(n_layers):
            self.columns[f"layers.{i}.grad_norm_W"] = 10.0 ** (-i - rng.random(n))
            self.columns[f"layers.{i}.update_ratio"] = 10.0 ** (-3.0 + 0.2 * rng.random(n))
            self.columns[f"layers.{i}.saturated"] = np.minimum(4, self.steps // 20)
        self.calls: list[tuple[str, int]] = []

    def series(self, name: str, max_points: int) -> SimpleNamespace:
        self.calls.append((name, max_points))
        v = self.columns[name]
        return SimpleNamespace(steps=self.steps, mean=v, min=v, max=v)


def make_evals(n: int, every: int = 10) -> list[SimpleNamespace]:
    """n evaluations, step 0 first as the Trainer records them; in two hidden layers the
    dead units (zero on every training sample) grow to 8 and stay at 1."""
    return [
        SimpleNamespace(
            step=s,
            train_loss=1.0 / (s + 1),
            train_accuracy=0.5,
            val_loss=1.2 / (s + 1),
            val_accuracy=0.4,
            dead=[min(8, s // 50), 1],
        )
        for s in range(0, n * every, every)
    ]


class FakeClock:
    """A clock that moves only when a test moves it (`clock.now += dt`)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now
