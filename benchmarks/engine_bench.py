"""Engine step time against a bare NumPy loop, PyTorch CPU and the BLAS bound.

    python benchmarks/engine_bench.py                   # ~1.5 minutes on a quiet machine
    python benchmarks/engine_bench.py --quick           # ~15 seconds
    python benchmarks/engine_bench.py --retry-busy 3    # rerun cases disturbed by neighbours
    python benchmarks/engine_bench.py --threads 1       # steadier on a busy machine
    python benchmarks/engine_bench.py --costs-only      # advise, saves, History: ~5 s
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/engine_bench.py

Per case (a ReLU MLP, softmax cross-entropy, Adam, float32, synthetic random data):

- engine: Trainer.step() with every per-step diagnostic on (they always are), eval_every=0;
- numpy:  a bare CS231n-style loop of the same net, batching and Adam, no diagnostics;
- torch:  nn.Sequential of Linear/ReLU, F.cross_entropy, torch.optim.Adam, with as many
          threads as NumPy's BLAS has;
- bound:  the step's matmul FLOPs / a measured float32 GEMM rate (1024^3, best of several).

All three start from the engine's initial weights and slice epoch-shuffled minibatches the
same way. Timing: warm up, then rounds of A B C A B C ...; each round times a block of
steps per contender (with a pause when the thread runtime changes, so idle spinning
OpenBLAS or OpenMP workers do not steal the next contender's cores); the result is the
median over rounds of the per-step block means. The run also reports how much CPU other
processes took meanwhile: on a 2-core machine anything else running makes multi-threaded
BLAS and OpenMP (and so these numbers) erratic, and such cases are flagged UNRELIABLE.
Before timing, each case checks that the three compute the same thing: a few full-batch
steps from the same weights must give the same losses.

After the cases, what the lab and the CLI call besides Trainer.step(), each also as a
number of steps of the same run timed just before it: advise() (the advisor, read at 1-2 Hz
from the UI), a checkpoint save (save_run, final=False) and a final one, and History's
append and series on a million rows. These timings are printed here, never asserted in a
test. `--costs-only` prints just these (no torch needed).

Needs torch and threadpoolctl (pip install torch threadpoolctl); neither is an engine
dependency.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from engine import ExperimentConfig, Trainer  # noqa: E402
from engine.data.datasets import Dataset  # noqa: E402
from engine.lecture.advisor import advise  # noqa: E402
from engine.lecture.scenarios import SCENARIOS  # noqa: E402
from engine.store.runs import create_run_dir, save_run  # noqa: E402
from engine.train.history import History  # noqa: E402

Array = np.ndarray

LR = 1e-3
BETAS = (0.9, 0.999)
EPS = 1e-8
N_BATCHES = 4  # training-set size in batches: a reshuffle every 4 steps, as in a real run
NUMPY_TARGET = 1.3  # engine <= 1.3x the bare NumPy loop, every case
BUSY_CORES = 0.15  # warn when neighbours used more CPU than this during a case
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
UNSET_COMMAND = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/engine_bench.py"


@dataclass(frozen=True)
class Case:
    sizes: tuple[int, ...]  # input, hidden..., classes
    batch: int
    torch_target: float  # engine <= this x PyTorch
    bound_target: float | None = None  # engine <= this x the BLAS bound

    @property
    def name(self) -> str:
        return "-".join(map(str, self.sizes))

    @property
    def flops(self) -> int:
        """Matmul FLOPs of one step: forward 2*N*fan_in*fan_out a layer, backward twice
        that (dW and dx), less the first layer's dx, which nobody needs."""
        n = self.batch
        forward = sum(2 * n * a * b for a, b in pairwise(self.sizes))
        return 3 * forward - 2 * n * self.sizes[0] * self.sizes[1]


CASES = (
    Case((2, 16, 16, 3), 64, torch_target=0.15),
    Case((2, 64, 64, 64, 3), 256, torch_target=0.8),
    Case((784, 256, 256, 10), 128, torch_target=0.8),
    Case((784, 1024, 1024, 10), 512, torch_target=1.0, bound_target=1.25),
)


# ----------------------------------------------------------------------------- the engine


def make_dataset(case: Case, n_train: int, seed: int = 0) -> Dataset:
    """Random float32 inputs of the case's width and random labels, built directly."""
    rng = np.random.default_rng(seed)
    d, c = case.sizes[0], case.sizes[-1]
    n_val = case.batch
    return Dataset(
        name="random",
        task="classification",
        X_train=rng.standard_normal((n_train, d), dtype=np.float32),
        y_train=rng.integers(0, c, n_train, dtype=np.int64),
        X_val=rng.standard_normal((n_val, d), dtype=np.float32),
        y_val=rng.integers(0, c, n_val, dtype=np.int64),
        n_classes=c,
        feature_names=[f"x{i + 1}" for i in range(d)],
        class_names=[str(k) for k in range(c)],
        x_mean=np.zeros(d),
        x_std=np.ones(d),
    )


def make_config(case: Case, n_train: int) -> ExperimentConfig:
    return ExperimentConfig.from_dict(
        {
            # Unused (the dataset is passed in) but validated: big enough for the batch.
            "data": {"n_samples": 2 * n_train},
            "model": {"hidden": list(case.sizes[1:-1]), "activation": "relu"},
            "optimizer": {
                "name": "adam",
                "lr": LR,
                "beta1": BETAS[0],
                "beta2": BETAS[1],
                "eps": EPS,
            },
            "training": {
                "batch_size": case.batch,
                "eval_every": 0,
                "dtype": "float32",
                "seed": 0,
            },
        }
    )


def make_trainer(case: Case, n_batches: int = N_BATCHES) -> Trainer:
    n_train = n_batches * case.batch
    return Trainer(make_config(case, n_train), dataset=make_dataset(case, n_train))


def initial_parameters(trainer: Trainer) -> list[tuple[Array, Array]]:
    """(W (fan_in, fan_out), b) per layer, copied before any step."""
    return [(layer.W.copy(), layer.b.copy()) for layer in trainer.network.layers]


# ----------------------------------------------------------------------------- bare NumPy


class NumpyLoop:
    """The same net, loss, batching and Adam (PyTorch's form), written as a competent
    engineer would without a framework: float32 throughout, gradients and Adam's
    temporaries in preallocated buffers, updates in place, no diagnostics."""

    def __init__(
        self, params: list[tuple[Array, Array]], X: Array, y: Array, batch: int, seed: int = 1
    ) -> None:
        self.W = [W.copy() for W, _ in params]
        self.b = [b.copy() for _, b in params]
        self.params = [p for pair in zip(self.W, self.b, strict=True) for p in pair]
        self.dW = [np.empty_like(W) for W in self.W]
        self.db = [np.empty_like(b) for b in self.b]
        self.grads = [g for pair in zip(self.dW, self.db, strict=True) for g in pair]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.tmp = [np.empty_like(p) for p in self.params]
        self.t = 0
        self.X, self.y, self.batch = X, y, batch
        self.rng = np.random.default_rng(seed)
        self.position = len(X)
        self.rows = np.arange(batch)

    def next_batch(self) -> tuple[Array, Array]:
        if self.position + self.batch > len(self.X):
            perm = self.rng.permutation(len(self.X))
            self.order_X, self.order_y = self.X[perm], self.y[perm]
            self.position = 0
        start = self.position
        self.position += self.batch
        return self.order_X[start : self.position], self.order_y[start : self.position]

    def step(self) -> float:
        x, y = self.next_batch()
        n = x.shape[0]
        rows = self.rows if n == self.batch else np.arange(n)
        last = len(self.W) - 1

        # forward: affine + ReLU, then the output affine
        acts = [x]
        h = x
        for i in range(last):
            h = h @ self.W[i]
            h += self.b[i]
            np.maximum(h, 0.0, out=h)
            acts.append(h)
        scores = h @ self.W[last]
        scores += self.b[last]

        # softmax cross-entropy; scores become dscores in place
        scores -= scores.max(axis=1, keepdims=True)
        correct = scores[rows, y]
        np.exp(scores, out=scores)
        sums = scores.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(sums[:, 0]) - correct))
        scores /= sums
        scores[rows, y] -= 1.0
        scores *= 1.0 / n

        # backward
        d = scores
        for i in range(last, -1, -1):
            np.matmul(acts[i].T, d, out=self.dW[i])
            np.sum(d, axis=0, out=self.db[i])
            if i > 0:
                d = d @ self.W[i].T
                np.multiply(d, acts[i] > 0, out=d)

        # Adam, PyTorch's update: p -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps)
        self.t += 1
        b1, b2 = BETAS
        step_size = LR / (1.0 - b1**self.t)
        inv_sqrt_c2 = 1.0 / math.sqrt(1.0 - b2**self.t)
        for p, g, m, v, tmp in zip(self.params, self.grads, self.m, self.v, self.tmp, strict=True):
            m *= b1
            np.multiply(g, 1.0 - b1, out=tmp)
            m += tmp
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp *= inv_sqrt_c2
            tmp += EPS
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            p -= tmp
        return loss


# ----------------------------------------------------------------------------- PyTorch


class TorchLoop:
    """model(x), F.cross_entropy, zero_grad(set_to_none=True), backward, step."""

    def __init__(
        self, params: list[tuple[Array, Array]], X: Array, y: Array, batch: int, seed: int = 1
    ) -> None:
        import torch
        import torch.nn.functional as F
        from torch import nn

        self.torch, self.F = torch, F
        modules: list[nn.Module] = []
        for i, (W, b) in enumerate(params):
            linear = nn.Linear(W.shape[0], W.shape[1], dtype=torch.float32)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                linear.bias.copy_(torch.from_numpy(b))
            modules.append(linear)
            if i < len(params) - 1:
                modules.append(nn.ReLU())
        self.model = nn.Sequential(*modules)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LR, betas=BETAS, eps=EPS)
        self.X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        self.y = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
        self.batch = batch
        self.generator = torch.Generator().manual_seed(seed)
        self.position = len(X)

    def next_batch(self) -> tuple[Any, Any]:
        if self.position + self.batch > len(self.X):
            perm = self.torch.randperm(len(self.X), generator=self.generator)
            self.order_X, self.order_y = self.X[perm], self.y[perm]
            self.position = 0
        start = self.position
        self.position += self.batch
        return self.order_X[start : self.position], self.order_y[start : self.position]

    def step(self) -> Any:
        x, y = self.next_batch()
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.F.cross_entropy(self.model(x), y)
        loss.backward()
        self.optimizer.step()
        return loss


# ----------------------------------------------------------------------------- measuring


def blas_info() -> list[dict[str, Any]]:
    from threadpoolctl import threadpool_info

    return [i for i in threadpool_info() if i.get("user_api") == "blas"]


def blas_threads() -> int:
    info = blas_info()
    return int(info[0]["num_threads"]) if info else 1


class Gemm:
    """float32 FLOP/s of an n x n x n matmul: the best sample seen. Sampled at the start
    and once a round, so a neighbour's burst of load does not set the bound."""

    def __init__(self, n: int = 1024) -> None:
        rng = np.random.default_rng(0)
        self.n = n
        self.a = rng.standard_normal((n, n), dtype=np.float32)
        self.b = rng.standard_normal((n, n), dtype=np.float32)
        self.out = np.empty((n, n), dtype=np.float32)
        self.best = math.inf
        self.samples = 0
        for _ in range(3):
            np.matmul(self.a, self.b, out=self.out)

    def sample(self, repeats: int = 1) -> None:
        for _ in range(repeats):
            start = time.perf_counter()
            np.matmul(self.a, self.b, out=self.out)
            self.best = min(self.best, time.perf_counter() - start)
            self.samples += 1

    @property
    def rate(self) -> float:
        return 2.0 * self.n**3 / self.best


class LoadMeter:
    """CPU the rest of the machine used while we ran, in cores: (busy time of all CPUs in
    /proc/stat, steal included) minus this process's CPU time, over the wall time.
    Anything much above 0 means neighbours competed with the benchmark."""

    def __init__(self) -> None:
        self.start = self._read()

    @staticmethod
    def _read() -> tuple[float, float, float] | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        busy = (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
        own = time.process_time()
        return time.perf_counter(), busy, own

    def others(self) -> float | None:
        end = self._read()
        if self.start is None or end is None:
            return None
        wall = end[0] - self.start[0]
        return max(0.0, (end[1] - self.start[1]) - (end[2] - self.start[2])) / wall


def per_step(fn: Callable[[], object], steps: int, limit: float = math.inf) -> float:
    """Mean seconds per call over one block of `steps` calls, cut short after `limit`
    seconds (a busy machine must not stretch a 1-minute run to 10)."""
    start = time.perf_counter()
    done = 0
    while done < steps:
        fn()
        done += 1
        if time.perf_counter() - start > limit:
            break
    return (time.perf_counter() - start) / done


def warm_up(fn: Callable[[], object], seconds: float) -> float:
    """Run fn for about `seconds` (at least 5 calls), then return a per-call estimate from
    the fastest of a few blocks of >= 20 ms, so that one slow first call (lazy init, a
    neighbour's burst) does not make the rounds one step long."""
    deadline = time.perf_counter() + seconds
    calls = 0
    while calls < 5 or time.perf_counter() < deadline:
        fn()
        calls += 1
    steps = 1
    while (t := per_step(fn, steps)) * steps < 0.02:
        steps *= 2
    return min([t] + [per_step(fn, steps) for _ in range(2)])


@dataclass
class Timing:
    name: str
    steps: int  # per round
    rounds: list[float]  # seconds per step, one mean per round

    @property
    def median(self) -> float:
        return statistics.median(self.rounds)

    @property
    def spread(self) -> float:
        """Interquartile range over the median: the run's noise."""
        if len(self.rounds) < 4:
            return (max(self.rounds) - min(self.rounds)) / self.median
        q = statistics.quantiles(self.rounds, n=4)
        return (q[2] - q[0]) / self.median


# Idle worker threads spin before they sleep: OpenBLAS's for 2^28 TSC ticks (~0.1 s),
# libgomp's (torch) for a few ms. A block right after another runtime's block would share
# the cores with those spinners, so we wait them out when the runtime changes.
RUNTIME = {"engine": "openblas", "numpy": "openblas", "torch": "openmp", "gemm": "openblas"}
SPIN_SECONDS = {"openblas": 0.12, "openmp": 0.02}


def interleaved(
    contenders: dict[str, Callable[[], object]],
    rounds: int,
    round_seconds: float,
    warm: float,
    gemm: Gemm,
    threads: int,
) -> dict[str, Timing]:
    estimates = {name: warm_up(fn, warm) for name, fn in contenders.items()}
    timings = {
        name: Timing(name, max(1, round(round_seconds / estimates[name])), [])
        for name in contenders
    }
    previous = "openblas"

    def settle(name: str) -> None:
        nonlocal previous
        if threads > 1 and RUNTIME[name] != previous:
            time.sleep(SPIN_SECONDS[previous])
        previous = RUNTIME[name]
        gc.collect(1)  # outside the block: no contender pays for another's young garbage

    for _ in range(rounds):
        for name, fn in contenders.items():
            settle(name)
            timings[name].rounds.append(per_step(fn, timings[name].steps, 2 * round_seconds))
        settle("gemm")
        gemm.sample()
    return timings


def parity(case: Case, steps: int = 3) -> float:
    """Full-batch steps (n_train = batch, so every shuffle gives the same gradient) from the
    same weights: the largest relative loss difference between engine, NumPy and torch."""
    trainer = make_trainer(case, n_batches=1)
    params = initial_parameters(trainer)
    X, y = trainer.X_train, trainer.y_train
    numpy_loop = NumpyLoop(params, X, y, case.batch)
    torch_loop = TorchLoop(params, X, y, case.batch)
    worst = 0.0
    for _ in range(steps):
        losses = [trainer.step().loss, numpy_loop.step(), float(torch_loop.step().item())]
        worst = max(worst, (max(losses) - min(losses)) / abs(losses[0]))
    return worst


# ----------------------------------------------------------------------------- reporting


def cpu_model() -> str:
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model", "flags") and key not in fields:
                    fields[key] = value.strip()
    except OSError:
        return platform.processor() or platform.machine()
    name = fields.get("model name", platform.machine())
    isa = [f for f in ("avx2", "fma", "avx512f") if f in fields.get("flags", "").split()]
    family = f"family {fields['cpu family']} model {fields['model']}" if "model" in fields else ""
    return f"{name} ({', '.join(filter(None, [family, ' '.join(isa)]))})"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def describe_blas(info: dict[str, Any]) -> str:
    return (
        f"{info.get('internal_api')} {info.get('version')}, kernel "
        f"{info.get('architecture')}, {plural(int(info.get('num_threads', 0)), 'thread')} "
        f"({info.get('threading_layer')})"
    )


def engine_revision() -> str:
    """The commit the engine is at, and whether engine/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "engine"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    if not head:
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes in engine/" if dirty else "")


def native_kernel() -> str | None:
    """The OpenBLAS kernel a fresh process picks with the OPENBLAS_* overrides unset."""
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARS}
    code = (
        "import numpy, threadpoolctl\n"
        "print(','.join(str(i.get('architecture')) for i in threadpoolctl.threadpool_info()"
        " if i.get('user_api') == 'blas'))"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def numpy_blas_build() -> str:
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # the dict's layout is not a stable API
        return "unknown"


def machine(threads: int) -> tuple[list[str], str]:
    """Lines describing the machine, and a one-line summary for the README."""
    import torch

    info = blas_info()
    blas = describe_blas(info[0]) if info else "none found by threadpoolctl"
    kernel = info[0].get("architecture") if info else "?"
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    python = platform.python_version()
    env = ", ".join(f"{k}={os.environ.get(k, '(unset)')}" for k in OPENBLAS_VARS)
    threads_env = ", ".join(
        f"{k}={os.environ[k]}"
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        if k in os.environ
    )
    lines = [
        f"engine:   {engine_revision()}",
        f"CPU:      {cpu_model()}",
        f"cores:    {cores} (usable by this process: {usable})",
        f"python:   {python} ({platform.python_implementation()}, {platform.system()})",
        f"numpy:    {np.__version__}, built with {numpy_blas_build()}",
        f"BLAS:     {blas}  [threadpoolctl]",
        f"torch:    {torch.__version__}, {plural(torch.get_num_threads(), 'thread')} (set to "
        f"NumPy's BLAS threads), MKL {torch.backends.mkl.is_available()}, "
        f"oneDNN {torch.backends.mkldnn.is_available()}",
        f"env:      {env}" + (f"; {threads_env}" if threads_env else ""),
    ]
    if any(k in os.environ for k in OPENBLAS_VARS):
        native = native_kernel()
        lines.append(
            f"          OpenBLAS runs the {kernel} kernel as set; with both unset it would "
            f"pick {native or '?'}. To benchmark that: {UNSET_COMMAND}"
        )
    else:
        lines.append(f"          OPENBLAS_* overrides unset: OpenBLAS chose the {kernel} kernel")
    summary = (
        f"{cpu_model().split(' (')[0]}, {usable} cores; Python {python}; NumPy {np.__version__} "
        f"(OpenBLAS {kernel} kernel, {plural(threads, 'thread')}); PyTorch {torch.__version__} "
        f"({plural(threads, 'thread')}); {env}; engine at {engine_revision()}"
    )
    return lines, summary


def fmt_time(seconds: float) -> str:
    us = seconds * 1e6
    if us < 100:
        return f"{us:.1f} µs"
    if us < 1000:
        return f"{us:.0f} µs"
    return f"{us / 1000:.2f} ms"


def verdict(ratio: float, target: float, against: str) -> str:
    return f"{against} ≤{target:g}×: {'pass' if ratio <= target else 'miss'}"


def targets(r: dict[str, Any]) -> str:
    """The case's verdicts, flagged when neighbours' load makes them meaningless."""
    text = "; ".join(verdict(*c) for c in r["checks"])
    others = r["others"]
    if others is not None and others > BUSY_CORES:
        text = f"UNRELIABLE, {others:.2f} cores busy elsewhere: {text}"
    return text


# ----------------------------------------------------------------------------- beside the step

COST_PRESET = "he_relu"  # one of the deepest lecture presets
COST_TARGETS = {"advise": 0.05, "checkpoint": 1.0}  # seconds: the UI reads advice at 1-2 Hz
HISTORY_COLUMNS = 30


@dataclass(frozen=True)
class Cost:
    what: str
    seconds: float
    per: str = ""  # what one timing covers, e.g. "a row"
    target: float | None = None  # seconds


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of one call over `repeat` calls, after one untimed call."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def side_costs(quick: bool) -> tuple[float, list[Cost]]:
    """Seconds a step of the preset's run, and what the lab and the CLI call besides step()
    on that run. The step is timed first, in the same process, as the unit of the rest."""
    import tempfile

    scenario = SCENARIOS[COST_PRESET]
    trainer = Trainer(scenario.config)
    trainer.run(scenario.steps)
    step = statistics.median(per_step(trainer.step, 200) for _ in range(5))
    repeat = 5 if quick else 20
    costs = [
        Cost("advise()", median_time(lambda: advise(trainer), repeat), "", COST_TARGETS["advise"])
    ]
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = create_run_dir(tmp, trainer.config)
        costs.append(
            Cost(
                "save_run, checkpoint (final=False)",
                median_time(lambda: save_run(trainer, run_dir, final=False), repeat),
                "",
                COST_TARGETS["checkpoint"],
            )
        )
        costs.append(
            Cost(
                "save_run, final (with exports)",
                median_time(lambda: save_run(trainer, run_dir, final=True), 3),
            )
        )
    rows = 200_000 if quick else 1_000_000
    history = History([f"c{i}" for i in range(HISTORY_COLUMNS)])
    block = np.random.default_rng(0).standard_normal((4096, HISTORY_COLUMNS))
    start = time.perf_counter()
    for i in range(rows):
        history.append(i + 1, block[i & 4095])
    append = (time.perf_counter() - start) / rows
    costs.append(Cost(f"History.append, {HISTORY_COLUMNS} columns", append, "a row"))
    series = median_time(lambda: history.series("c7", max_points=2000), repeat)
    costs.append(Cost(f"History.series(2000) of {rows:,} rows", series))
    return step, costs


def print_costs(step: float, costs: list[Cost]) -> None:
    print(
        f"\nbeside the step: the {COST_PRESET} preset after its {SCENARIOS[COST_PRESET].steps} "
        f"steps ({len(SCENARIOS[COST_PRESET].config.model.hidden)} hidden layers), "
        f"{fmt_time(step)} a step"
    )
    width = max(len(c.what) for c in costs)
    for c in costs:
        per = f" {c.per}" if c.per else ""
        line = f"  {c.what:<{width}}  {fmt_time(c.seconds):>10s}{per:<6s}"
        line += f" = {c.seconds / step:8.3g} steps"
        if c.target is not None:
            verdict = "pass" if c.seconds <= c.target else "miss"
            line += f"   target <= {c.target * 1000:g} ms: {verdict}"
        print(line)


# ----------------------------------------------------------------------------- main


def bench_case(
    case: Case, gemm: Gemm, rounds: int, round_seconds: float, warm: float, threads: int
) -> dict[str, Any]:
    meter = LoadMeter()
    drift = parity(case)
    trainer = make_trainer(case)
    params = initial_parameters(trainer)
    X, y = trainer.X_train, trainer.y_train
    numpy_loop = NumpyLoop(params, X, y, case.batch)
    torch_loop = TorchLoop(params, X, y, case.batch)
    contenders: dict[str, Callable[[], object]] = {
        "engine": trainer.step,
        "numpy": numpy_loop.step,
        "torch": torch_loop.step,
    }
    timings = interleaved(contenders, rounds, round_seconds, warm, gemm, threads)
    return {"case": case, "timings": timings, "parity": drift, "others": meter.others()}


def finish(r: dict[str, Any], rate: float) -> None:
    """Bound, ratios and target checks, once the run's best GEMM rate is known."""
    case: Case = r["case"]
    engine, bare, torch = (r["timings"][k].median for k in ("engine", "numpy", "torch"))
    bound = case.flops / rate
    checks = [
        (engine / torch, case.torch_target, "torch"),
        (engine / bare, NUMPY_TARGET, "numpy"),
    ]
    if case.bound_target is not None:
        checks.append((engine / bound, case.bound_target, "bound"))
    r["bound"] = bound
    r["ratios"] = (engine / torch, engine / bare, engine / bound)
    r["checks"] = checks


def print_case(r: dict[str, Any]) -> None:
    case: Case = r["case"]
    print(f"\n{case.name}, batch {case.batch}  ({case.flops / 1e6:.3g} MFLOP a step)")
    parity_note = "ok" if r["parity"] < 1e-4 else "MISMATCH: the contenders differ"
    gap = r["parity"]
    print(f"  parity: 3 full-batch steps, largest relative loss gap {gap:.1e} ({parity_note})")
    for t in r["timings"].values():
        print(
            f"  {t.name:7s} {fmt_time(t.median):>10s} a step  (IQR {100 * t.spread:4.1f}%, "
            f"{len(t.rounds)} rounds x {t.steps} steps)"
        )
    print(f"  bound   {fmt_time(r['bound']):>10s} a step  (matmul FLOPs at the sgemm rate)")
    e_t, e_n, e_b = r["ratios"]
    print(f"  engine/torch {e_t:.2f}x   engine/numpy {e_n:.2f}x   engine/bound {e_b:.2f}x")
    t = r["timings"]
    paired = [
        statistics.median(a / b for a, b in zip(t["engine"].rounds, t[k].rounds, strict=True))
        for k in ("torch", "numpy")
    ]
    print(
        f"  (median of per-round ratios, robust to drift: engine/torch {paired[0]:.2f}x, "
        f"engine/numpy {paired[1]:.2f}x)"
    )
    print("  targets: " + targets(r))


def markdown(results: list[dict[str, Any]], summary: str, rate: float) -> str:
    head = (
        "| case | batch | engine | NumPy loop | PyTorch | BLAS bound "
        "| engine/torch | engine/numpy | engine/bound | targets |"
    )
    rule = "|" + "---|" * 10
    rows = [head, rule]
    for r in results:
        case: Case = r["case"]
        t = r["timings"]
        e_t, e_n, e_b = r["ratios"]
        rows.append(
            f"| {case.name} | {case.batch} | {fmt_time(t['engine'].median)} "
            f"| {fmt_time(t['numpy'].median)} | {fmt_time(t['torch'].median)} "
            f"| {fmt_time(r['bound'])} | {e_t:.2f}× | {e_n:.2f}× | {e_b:.2f}× "
            f"| {targets(r)} |"
        )
    notes = (
        f"\nTime per training step (median of interleaved rounds), float32, Adam, softmax "
        f"cross-entropy; engine = Trainer.step() with all per-step diagnostics. BLAS bound = "
        f"matmul FLOPs / {rate / 1e9:.0f} GFLOP/s (1024³ sgemm). {summary}."
    )
    return "\n".join(rows) + "\n" + notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 15 s instead of 1-2 min")
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument(
        "--case", action="append", help="run only these cases (e.g. 2-16-16-3); repeatable"
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="limit NumPy's BLAS (and so torch) to this many threads; default: as the "
        "machine is. 1 gives steadier numbers on a busy machine",
    )
    parser.add_argument(
        "--retry-busy",
        type=int,
        default=0,
        metavar="N",
        help=f"rerun a case up to N more times while other processes used over "
        f"{BUSY_CORES} cores during it, and keep the quietest run",
    )
    parser.add_argument(
        "--costs-only",
        action="store_true",
        help="only what the lab and the CLI call besides step(): advise, saves, History",
    )
    args = parser.parse_args(argv)
    if args.costs_only:
        print(f"engine:   {engine_revision()}")
        print_costs(*side_costs(args.quick))
        return 0
    try:
        import threadpoolctl  # noqa: F401
        import torch
    except ImportError as e:
        print(f"needs torch and threadpoolctl: pip install torch threadpoolctl ({e})")
        return 2

    rounds, round_seconds, warm = (6, 0.1, 0.15) if args.quick else (15, 0.35, 0.5)
    rounds = args.rounds or rounds
    cases = [c for c in CASES if not args.case or c.name in args.case]
    if not cases:
        print(f"no such case; cases: {', '.join(c.name for c in CASES)}")
        return 2

    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=args.threads, user_api="blas")  # applies until exit
    threads = blas_threads()
    torch.set_num_threads(threads)
    # torch's import leaves a large heap; a full collection of it takes ~80 ms. Freeze it so
    # that a collection triggered inside a timed block costs what it would without torch.
    gc.collect()
    gc.freeze()
    lines, summary = machine(threads)
    print("\n".join(lines))
    print(
        f"method:   warm-up, then {rounds} rounds of engine/numpy/torch blocks of "
        f"~{round_seconds:g} s each (a pause when the thread runtime changes, so idle "
        "spinning workers do not steal cores); median of the per-round means"
    )
    sys.stdout.flush()

    start = time.perf_counter()
    gemm = Gemm()
    gemm.sample(10)
    results = []
    for case in cases:
        best: dict[str, Any] | None = None
        for _ in range(1 + args.retry_busy):
            t0 = time.perf_counter()
            r = bench_case(case, gemm, rounds, round_seconds, warm, threads)
            others = r["others"]
            load = "" if others is None else f"; other processes used {others:.2f} cores"
            print(f"  {case.name} done in {time.perf_counter() - t0:.0f} s{load}", flush=True)
            if best is None or (others or 0.0) < (best["others"] or 0.0):
                best = r
            if others is None or others <= BUSY_CORES:
                break
        assert best is not None
        results.append(best)
    rate = gemm.rate
    print(
        f"sgemm:    {rate / 1e9:.0f} GFLOP/s float32 (1024x1024x1024, best of "
        f"{gemm.samples} spread over the run)"
    )
    for r in results:
        finish(r, rate)
        print_case(r)
    busy = [r["others"] for r in results if r["others"] is not None]
    if busy and max(busy) > BUSY_CORES:
        print(
            f"\nWARNING: other processes used up to {max(busy):.2f} of {os.cpu_count()} cores "
            "during the run; the numbers are not reliable. Rerun on a quiet machine."
        )
    met = sum(ratio <= target for r in results for ratio, target, _ in r["checks"])
    total = sum(len(r["checks"]) for r in results)
    print_costs(*side_costs(args.quick))
    print(f"\n{met}/{total} targets met; {time.perf_counter() - start:.0f} s of benchmarking\n")
    print(markdown(results, summary, rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
