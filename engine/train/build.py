"""Building the network from a config: where the config layer meets nn."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from engine.config import ModelConfig
from engine.nn.activations import ActivationParams, get_activation
from engine.nn.initializers import initialize
from engine.nn.layers import Dense, Layer, Maxout
from engine.nn.network import MLP


def build_network(
    model: ModelConfig,
    n_in: int,
    n_out: int,
    rng: np.random.Generator,
    dtype: np.dtype | type = np.float32,
) -> MLP:
    """Hidden layers with the model's activation, then a linear output layer."""
    params = ActivationParams(model.leaky_slope, model.elu_alpha)
    hidden_act = get_activation(model.activation, params)
    linear = get_activation("linear")
    sizes = [n_in, *model.hidden, n_out]
    layers: list[Layer] = []
    for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        is_output = i == len(sizes) - 2
        maxout = model.activation == "maxout" and not is_output
        # Maxout's k pieces each map fan_in -> fan_out, so the fans are the same.
        shape = (fan_in, fan_out, model.maxout_k) if maxout else (fan_in, fan_out)
        W = initialize(model.init, shape, fan_in, fan_out, rng, model.init_scale)
        b = np.full(shape[1:], model.bias_value if model.bias_init == "constant" else 0.0)
        kind = Maxout if maxout else Dense
        act = linear if is_output else hidden_act
        layers.append(kind(W.astype(dtype), b.astype(dtype), act))
    return MLP(layers)
