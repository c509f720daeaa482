"""Building the network from a config: where the config layer meets nn."""

from __future__ import annotations

from itertools import pairwise
from typing import NamedTuple

import numpy as np

from engine.config import ModelConfig
from engine.nn.activations import Activation, ActivationParams, get_activation
from engine.nn.initializers import initialize
from engine.nn.layers import Dense, Layer, Maxout
from engine.nn.network import MLP


class LayerPlan(NamedTuple):
    """One layer as the config asks for it, before any weight is drawn."""

    fan_in: int
    fan_out: int
    activation: Activation

    @property
    def shape(self) -> tuple[int, ...]:
        """W's shape: (fan_in, fan_out), or (fan_in, fan_out, k) for k pieces a unit.
        Maxout's k pieces each map fan_in -> fan_out, so the fans are the same."""
        k = self.activation.pieces
        return (self.fan_in, self.fan_out, k) if k > 1 else (self.fan_in, self.fan_out)


def plan(model: ModelConfig, n_in: int, n_out: int) -> list[LayerPlan]:
    """Hidden layers with the model's activation, then a linear output layer."""
    params = ActivationParams(model.leaky_slope, model.elu_alpha, model.maxout_k)
    hidden = get_activation(model.activation, params)
    linear = get_activation("linear")
    sizes = [n_in, *model.hidden, n_out]
    last = len(sizes) - 2
    return [
        LayerPlan(fan_in, fan_out, linear if i == last else hidden)
        for i, (fan_in, fan_out) in enumerate(pairwise(sizes))
    ]


def build_network(
    model: ModelConfig,
    n_in: int,
    n_out: int,
    rng: np.random.Generator,
    dtype: np.dtype | type = np.float32,
) -> MLP:
    """The planned layers with their initial weights, in `dtype`."""
    layers: list[Layer] = []
    for layer in plan(model, n_in, n_out):
        shape = layer.shape
        W = initialize(model.init, shape, layer.fan_in, layer.fan_out, rng, model.init_scale)
        b = np.full(shape[1:], model.bias_value if model.bias_init == "constant" else 0.0)
        kind = Maxout if layer.activation.pieces > 1 else Dense
        layers.append(kind(W.astype(dtype), b.astype(dtype), layer.activation))
    return MLP(layers)
