"""Every config field, declared once: type, default, what is allowed (names read live from
the registries), help, command-line flag, lab label, where it applies, whether it is live.

The lab shows a panel's fields in the order of SECTIONS, then of declaration.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config.schema import (
    Names,
    Number,
    Setting,
    Whole,
    Widths,
    setting,
    settings_of,
    unless,
    when,
    when_one_of,
)
from engine.data.datasets import DATASETS
from engine.data.features import FEATURES, IDENTITY
from engine.nn.activations import ACTIVATIONS
from engine.nn.initializers import INITIALIZERS
from engine.nn.losses import LOSSES
from engine.nn.optimizers import OPTIMIZERS, SCHEDULES

NO_FILE = when("data.path", "")
HAS_FILE = unless("data.path", "")


def _sets_with_classes() -> list[str]:
    return [name for name, spec in DATASETS.items() if spec.takes_n_classes]


@dataclass
class DataConfig:
    name: str = setting(
        "spiral",
        "the synthetic data set",
        choices=lambda: list(DATASETS),
        flag="--dataset",
        label="dataset",
        when=NO_FILE,
    )
    n_classes: int = setting(
        3,
        "classes of a synthetic set that takes a count; the others fix their own",
        rule=Whole(2, 10),
        flag="--classes",
        label="classes",
        when=when_one_of("data.name", _sets_with_classes) & NO_FILE,
    )
    noise: float = setting(
        0.1,
        "noise of the synthetic set",
        rule=Number(0.0, 10.0),
        flag="--noise",
        label="noise",
        when=NO_FILE,
    )
    n_samples: int = setting(
        300,
        "samples in the synthetic set, before the split",
        rule=Whole(4, 1_000_000),
        flag="--samples",
        label="samples",
        when=NO_FILE,
    )
    train_fraction: float = setting(
        0.8,
        "share of the samples to train on; the rest validate",
        rule=Number(0.0, 1.0, lo_open=True, hi_open=True),
        flag="--train-fraction",
        label="train frac",
    )
    standardize: bool = setting(
        True,
        "scale each input to mean 0 and std 1, measured on the training split",
        flag="--standardize",
    )
    seed: int = setting(
        0,
        "seeds the synthetic set and the train/validation split (training.seed: the "
        "weights and the minibatch order), so runs of other seeds see the same data",
        rule=Whole(0, 2**63 - 1),
        flag="--data-seed",
    )
    features: list[str] = setting(
        list(IDENTITY),
        "what the network reads of each 2-D point: x1, x2 and crosses of them "
        "(TensorFlow Playground's); the boundary stays over the x1, x2 plane",
        rule=Names(lambda: list(FEATURES)),
        flag="--features",
        label="features",
    )
    path: str = setting(
        "",
        "a CSV or NPZ file to train on; empty: the synthetic set",
        kind="path",
        flag="--data",
        label="file",
    )
    target: str = setting(
        "",
        "the CSV column that holds the label; empty: the last column",
        flag="--target",
        label="target col",
        when=HAS_FILE,
    )


@dataclass
class ModelConfig:
    # setting() gives a list default a default_factory; ruff cannot see through the call.
    hidden: list[int] = setting(
        [16, 16],
        "hidden-layer widths; empty: no hidden layer (a single neuron)",
        rule=Widths(layers=64, width=16384),
        flag="--hidden",
        label="hidden",
    )
    activation: str = setting(
        "relu",
        "the hidden layers' activation",
        choices=lambda: list(ACTIVATIONS),
        flag="--activation",
        label="activation",
    )
    leaky_slope: float = setting(
        0.01,
        "leaky ReLU's slope for negative inputs",
        rule=Number(0.0, 1.0),
        flag="--leaky-slope",
        label="slope",
        when=when("model.activation", "leaky_relu"),
    )
    elu_alpha: float = setting(
        1.0,
        "ELU tends to -alpha for large negative inputs",
        rule=Number(0.0, 100.0, lo_open=True),
        flag="--elu-alpha",
        label="alpha",
        when=when("model.activation", "elu"),
    )
    maxout_k: int = setting(
        2,
        "pieces of each maxout unit (k times the weights of a dense layer)",
        rule=Whole(2, 16),
        flag="--maxout-k",
        label="k",
        when=when("model.activation", "maxout"),
    )
    init: str = setting(
        "he_normal",
        "the weights' initialization",
        choices=lambda: list(INITIALIZERS),
        flag="--init",
        label="init",
    )
    init_scale: float = setting(
        0.01,
        "std of normal, limit of uniform, value of constant",
        rule=Number(0.0, 1e3),
        flag="--init-scale",
        label="scale",
        when=when("model.init", "normal", "uniform", "constant"),
    )
    bias_init: str = setting(
        "zeros",
        "the biases' initialization",
        choices=lambda: ["zeros", "constant"],
        flag="--bias-init",
    )
    bias_value: float = setting(
        0.0,
        "every bias's initial value",
        rule=Number(-1e3, 1e3),
        flag="--bias-value",
        when=when("model.bias_init", "constant"),
    )
    loss: str = setting(
        "auto",
        "the loss; auto: softmax cross-entropy to classify, MSE to regress",
        choices=lambda: ["auto", *LOSSES],
        flag="--loss",
    )


@dataclass
class OptimizerConfig:
    name: str = setting(
        "adam",
        "the update rule",
        choices=lambda: list(OPTIMIZERS),
        flag="--optimizer",
        label="optimizer",
    )
    lr: float = setting(
        0.01,
        "the base learning rate; the schedule scales it",
        rule=Number(0.0, 1e3, lo_open=True),
        flag="--lr",
        label="lr",
        live=True,
    )
    momentum: float = setting(
        0.9,
        "the velocity's decay",
        rule=Number(0.0, 1.0, hi_open=True),
        flag="--momentum",
        label="momentum",
        when=when("optimizer.name", "momentum", "nesterov"),
    )
    beta1: float = setting(
        0.9,
        "Adam's decay of the gradient's mean",
        rule=Number(0.0, 1.0, hi_open=True),
        flag="--beta1",
        when=when("optimizer.name", "adam"),
    )
    beta2: float = setting(
        0.999,
        "Adam's decay of the squared gradient's mean",
        rule=Number(0.0, 1.0, hi_open=True),
        flag="--beta2",
        when=when("optimizer.name", "adam"),
    )
    rho: float = setting(
        0.99,
        "RMSProp's decay of the squared gradient's mean, PyTorch's alpha",
        rule=Number(0.0, 1.0, hi_open=True),
        flag="--rho",
        when=when("optimizer.name", "rmsprop"),
    )
    eps: float = setting(
        1e-8,
        "added to the root mean square before dividing by it",
        rule=Number(0.0, 1.0, lo_open=True),
        flag="--eps",
        when=when("optimizer.name", "rmsprop", "adam"),
    )
    weight_decay: float = setting(
        0.0,
        "L2 penalty on the weights (not the biases), added to the gradient",
        rule=Number(0.0, 1e3),
        flag="--weight-decay",
        label="L2",
    )
    clip_norm: float = setting(
        0.0,
        "clip the gradient to this global norm; 0: no clipping",
        rule=Number(0.0),
        flag="--clip-norm",
    )
    schedule: str = setting(
        "constant",
        "how the learning rate changes with the steps",
        choices=lambda: list(SCHEDULES),
        flag="--schedule",
        label="schedule",
    )
    step_size: int = setting(
        1000,
        "step schedule: multiply the rate by gamma every step_size steps",
        rule=Whole(1, 10**9),
        flag="--step-size",
        label="every",
        when=when("optimizer.schedule", "step"),
    )
    gamma: float = setting(
        0.5,
        "step schedule: the factor applied every step_size steps",
        rule=Number(0.0, 1.0, lo_open=True),
        flag="--gamma",
        label="gamma",
        when=when("optimizer.schedule", "step"),
    )
    decay_steps: int = setting(
        2000,
        "cosine schedule: steps to decay to 0 over, then 0 (the step budget does not move it)",
        rule=Whole(1, 10**9),
        flag="--decay-steps",
        label="decay steps",
        when=when("optimizer.schedule", "cosine"),
    )


@dataclass
class TrainingConfig:
    batch_size: int = setting(
        64,
        "samples in each minibatch",
        rule=Whole(1, 1_000_000),
        flag="--batch-size",
        label="batch",
        panel="optimizer",
    )
    seed: int = setting(
        0,
        "seeds the initial weights and the minibatch order (data.seed: the data)",
        rule=Whole(0, 2**63 - 1),
        flag="--seed",
        label="seed",
        panel="optimizer",
    )
    steps: int = setting(
        2000,
        "the step budget: training stops after this many steps",
        rule=Whole(1, 10**9),
        flag="--steps",
        label="steps",
        panel="optimizer",
    )
    eval_every: int = setting(
        50,
        "steps between evaluations on the whole training and validation sets; 0: none",
        rule=Whole(0, 10**9),
        flag="--eval-every",
    )
    dtype: str = setting(
        "float32",
        "the floating-point type of training; gradient checks always use float64",
        choices=lambda: ["float32", "float64"],
        flag="--dtype",
    )
    memory_budget_mb: float = setting(
        1024.0,
        "refuse a network whose arrays would need more memory than this, in MiB",
        rule=Number(0.0, 1e6, lo_open=True),
        flag="--memory-budget-mb",
    )


SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "optimizer": OptimizerConfig,
    "training": TrainingConfig,
}

# Every field by its key ("optimizer.lr"), in the order of SECTIONS, then of declaration.
FIELDS: dict[str, Setting] = {
    s.key: s for section, cls in SECTIONS.items() for s in settings_of(section, cls)
}

# The fields a running run takes without starting over.
LIVE_FIELDS: frozenset[str] = frozenset(key for key, s in FIELDS.items() if s.live)
