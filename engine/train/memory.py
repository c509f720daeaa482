"""The memory guard: what a Trainer will hold, counted before it allocates any of it, against
training.memory_budget_mb. It runs once the data is known (a file's width is known only
then), from the real input and output widths."""

from __future__ import annotations

import math

import numpy as np

from engine.config import ConfigError, ExperimentConfig
from engine.nn.optimizers import probe
from engine.train.build import plan
from engine.train.distributions import DistributionStore
from engine.train.history import History
from engine.train.records import history_columns

MB = 2**20

PARTS = {
    "parameters": "parameters, gradients and optimizer buffers",
    "batch": "batch's activations",
    "evaluation": "evaluation's forward over the data",
    "data": "training copies of the data",
    "history": "metric history",
    "distributions": "distributions of activations and gradients",
}


def estimate_bytes(
    config: ExperimentConfig, n_in: int, n_out: int, n_train: int, n_val: int
) -> dict[str, int]:
    """Bytes a Trainer of this config holds at most, by part (the keys of PARTS), for data
    of n_in features, n_train + n_val samples and a network of n_out outputs."""
    itemsize = np.dtype(config.training.dtype).itemsize
    layers = plan(config.model, n_in, n_out)
    n_params = sum(math.prod(layer.shape) + math.prod(layer.shape[1:]) for layer in layers)
    # Flat vectors the size of the parameters: theta, grad, the weight-decay mask, the
    # optimizer's state and work arrays, and the scaled and decayed gradients that clipping
    # and weight decay make for a moment.
    vectors = 3 + probe(config.optimizer).n_buffers + 2
    # Per sample: every unit's pieces (k for maxout), summed over the layers, and the most
    # of one layer.
    widths = [layer.fan_out * layer.activation.pieces for layer in layers]
    width, widest = sum(widths), max(widths)
    return {
        "parameters": vectors * n_params * itemsize,
        # A forward keeps z, a and (when backward reads it) a copy of z a layer; backward
        # makes about two more of that size.
        "batch": config.training.batch_size * (n_in + 5 * width) * itemsize,
        # evaluate() forwards the whole training set, then the validation set, keeping
        # z, a and a copy of z a layer; an activation makes up to four temporaries of its
        # layer's size (GELU's tanh form).
        "evaluation": ((n_train + n_val) * 3 * width + n_train * 4 * widest) * itemsize,
        # The inputs cast to the training dtype, and the epoch's shuffled copy.
        "data": (2 * n_train + n_val) * n_in * itemsize,
        "history": History.max_nbytes(len(history_columns(len(layers)))),
        "distributions": DistributionStore.max_nbytes(len(layers)),
    }


def check_memory(config: ExperimentConfig, n_in: int, n_out: int, n_train: int, n_val: int) -> None:
    """ConfigError("model.hidden") when the estimate is over training.memory_budget_mb."""
    parts = estimate_bytes(config, n_in, n_out, n_train, n_val)
    need = sum(parts.values()) / MB
    budget = config.training.memory_budget_mb
    if need > budget:
        largest = max(parts, key=lambda part: parts[part])
        raise ConfigError(
            "model.hidden",
            f"this run needs about {need:.0f} MB ({parts[largest] / MB:.0f} MB of it for "
            f"the {PARTS[largest]}), over the memory budget of {budget:g} MB "
            "(training.memory_budget_mb)",
        )
