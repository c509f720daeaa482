"""The runner's looks (boundary, verdict, advice) and what the UI reads: never stale, never
under the training lock, and never a wait for a step."""

from __future__ import annotations

import threading

import numpy as np
from runner_helpers import SMALL, wait_until

import tui_nn.core.runner as runner_module
from engine import Trainer
from tui_nn.core.runner import Runner

WORKER = "tui-nn-runner"


def fresh(r: Runner) -> bool:
    snap = r.snapshot()
    return snap.boundary is not None and snap.boundary.step == snap.step


def on_worker() -> bool:
    return threading.current_thread().name == WORKER


# ------------------------------------------------------------- never stale


def test_the_boundary_describes_the_paused_step(runner) -> None:
    r = runner()
    r.start()
    wait_until(lambda: r.snapshot().step > 300)
    r.pause()
    snap = r.snapshot()
    assert snap.state == "paused" and snap.boundary.step == snap.step > 300


def test_the_boundary_follows_a_single_step(runner) -> None:
    r = runner()
    for expected in (1, 2, 3):
        r.step()
        assert r.snapshot().boundary.step == expected


def test_the_boundary_describes_the_last_step_when_done(runner) -> None:
    r = runner(SMALL.with_changes(training={"steps": 40}))
    r.start()
    wait_until(lambda: r.state == "done")
    wait_until(lambda: fresh(r))  # the worker looks once more where the run ended
    assert r.snapshot().boundary.step == 40


def test_a_new_run_shows_its_own_data_and_step(runner) -> None:
    r = runner()
    r.step(20)
    r.reset()
    snap = r.snapshot()
    assert snap.step == 0 and snap.boundary.step == 0
    r.step(5)
    r.set_config(r.config.with_changes(data={"noise": 0.3}))  # a new run on new data
    snap = r.snapshot()
    assert (snap.step, snap.boundary.step) == (0, 0)
    points = r.read(lambda t: t.dataset.X_train)
    np.testing.assert_array_equal(snap.boundary.points, points)


def test_a_big_nets_look_goes_to_the_worker_and_the_caller_goes_on(runner, monkeypatch) -> None:
    """Above INLINE_PARAMETERS the caller (the UI's n key) never computes the grid: the
    worker does, and the snapshot gets it when it is ready."""
    monkeypatch.setattr(runner_module, "INLINE_PARAMETERS", 0)
    entered, release = threading.Event(), threading.Event()
    real = Trainer.predict

    def predict(self, X):
        if on_worker():
            entered.set()
            release.wait(30)
        return real(self, X)

    monkeypatch.setattr(Trainer, "predict", predict)
    r = runner()
    try:
        assert entered.wait(10)  # the first look of the run, on the worker
        r.step(3)  # returns while the worker is still in its grid
        snap = r.snapshot()
        assert snap.step == 3
        # No picture yet, but one is coming: the widget can say so.
        assert snap.boundary is None and snap.boundary_kind == "classes"
    finally:
        release.set()
    wait_until(lambda: fresh(r))
    assert r.snapshot().boundary.step == 3


# ------------------------------------------------------------- no lock held


def test_a_look_computes_without_the_training_lock(runner, monkeypatch) -> None:
    """The worker's periodic look blocked in its grid: a read of the trainer (which takes
    the training lock) and a step on the UI thread go on meanwhile."""
    entered, release = threading.Event(), threading.Event()
    real = Trainer.predict

    def predict(self, X):
        if on_worker() and not release.is_set():
            entered.set()
            release.wait(30)
        return real(self, X)

    monkeypatch.setattr(Trainer, "predict", predict)
    r = runner()
    r.start()
    answered = threading.Event()
    try:
        assert entered.wait(10), "the worker never looked"

        def ui() -> None:
            r.snapshot()
            r.read(lambda t: t.steps_done)
            answered.set()

        threading.Thread(target=ui, daemon=True).start()
        assert answered.wait(10), "a read waited for the look"
        r.step(2)  # pauses and steps on this thread; its own look is newer
        stepped = r.snapshot()
        assert stepped.boundary.step == stepped.step
        parked = threading.Event()
        real_wait = r._wake.wait

        def wait(timeout=None):
            if timeout is None:
                parked.set()  # the worker is done with its look and sleeps (paused)
            return real_wait(timeout)

        r._wake.wait = wait
    finally:
        release.set()
    # The worker's older look, finished last, does not replace the newer picture.
    assert parked.wait(10)
    snap = r.snapshot()
    assert snap.boundary.step == snap.step == stepped.step


def test_a_snapshot_never_waits_for_a_step(runner) -> None:
    """The worker inside a step (holding the training lock): the UI's snapshot and its
    series still answer, from what was published."""
    r = runner()
    r.step(5)
    entered, release = threading.Event(), threading.Event()
    real_step = r._trainer.step

    def step():
        if on_worker() and not release.is_set():
            entered.set()
            release.wait(30)
        return real_step()

    r._trainer.step = step
    r.start()  # never waits for a step either
    answered, seen = threading.Event(), []
    try:
        assert entered.wait(10)

        def ui() -> None:
            snap = r.snapshot()
            seen.append((snap.state, snap.step, len(snap.series("loss", 10).mean)))
            answered.set()

        threading.Thread(target=ui, daemon=True).start()
        assert answered.wait(10), "the snapshot waited for the step"
        assert seen == [("running", 5, 5)]
    finally:
        release.set()


# ------------------------------------------------------------- what a look draws


def test_classification_draws_classes_with_names_and_the_validation_set(runner) -> None:
    r = runner()
    r.step(3)
    b = r.snapshot().boundary
    data = r.read(lambda t: t.dataset)
    assert b.kind == "classes" and b.class_names == ("0", "1", "2")
    assert b.probs.shape == (48, 64, 3) and np.allclose(b.probs.sum(axis=-1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(b.val_points, data.X_val)
    np.testing.assert_array_equal(b.val_labels, data.y_val)
    assert len(b.val_points) > 0 and len(b.points) == len(data.X_train)


def write_csv(path, header: str, rows: list[str]) -> str:
    path.write_text("\n".join([header, *rows]) + "\n")
    return str(path)


def test_a_csvs_string_labels_name_the_classes(runner, tmp_path) -> None:
    points = np.random.default_rng(0).uniform(-1, 1, (100, 2))
    rows = [f"{x:.2f},{y:.2f},{'cat' if x < 0 else 'dog'}" for x, y in points]
    file = write_csv(tmp_path / "pets.csv", "x,y,label", rows)
    r = runner(SMALL.with_changes(data={"path": file}))
    b = r.snapshot().boundary
    assert b.kind == "classes" and b.class_names == ("cat", "dog")


def test_two_dimensional_regression_draws_the_predicted_values(runner) -> None:
    r = runner(SMALL.with_changes(data={"name": "ripple"}))
    r.step(3)
    b = r.snapshot().boundary
    assert b.kind == "values" and b.probs.shape == (48, 64, 1) and b.class_names == ()
    gx, gy = np.meshgrid(b.xs, b.ys)  # row 0 the lowest y
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    expected = r.read(lambda t: t.predict(grid)).reshape(48, 64, 1)
    np.testing.assert_allclose(b.probs, expected, rtol=1e-5, atol=1e-6)


def test_one_dimensional_regression_draws_the_fitted_curve(runner) -> None:
    r = runner(SMALL.with_changes(data={"name": "sine"}))
    r.step(3)
    b = r.snapshot().boundary
    data = r.read(lambda t: t.dataset)
    n_points = runner_module.CURVE_POINTS
    assert b.kind == r.snapshot().boundary_kind == "curve"
    assert b.ys.shape == (0,) and b.xs.shape == (n_points,)
    assert b.probs.shape == (1, n_points, 1) and b.step == 3
    assert b.points.shape == (len(data.X_train), 1) and b.labels.shape == (len(data.X_train), 1)
    assert b.xs[0] < data.X_train.min() and b.xs[-1] > data.X_train.max()  # a margin
    fitted = r.read(lambda t: t.predict(b.xs[:, None]))
    np.testing.assert_allclose(b.probs[0], fitted, rtol=1e-5, atol=1e-6)


def test_more_than_two_features_have_no_picture(runner, tmp_path) -> None:
    points = np.random.default_rng(1).uniform(-1, 1, (100, 3))
    rows = [f"{a:.2f},{b:.2f},{c:.2f},{int(a > 0)}" for a, b, c in points]
    r = runner(SMALL.with_changes(data={"path": write_csv(tmp_path / "3.csv", "a,b,c,y", rows)}))
    r.step(2)
    snap = r.snapshot()
    assert snap.boundary is None and snap.boundary_kind is None
