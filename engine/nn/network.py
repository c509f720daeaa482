"""The MLP: hidden layers with the chosen activation, then a linear output layer."""

from __future__ import annotations

import copy

import numpy as np

from engine.nn.layers import Layer

Array = np.ndarray


class MLP:
    """Parameters and gradients live in two flat vectors (`theta`, `grad`); every layer's
    W, b, dW and db are views into them, so the optimizer updates all of them in one pass."""

    def __init__(self, layers: list[Layer]) -> None:
        self.layers = layers
        self._flatten()

    def _flatten(self) -> None:
        arrays = [a for layer in self.layers for a in (layer.W, layer.b)]
        dtype = arrays[0].dtype
        self.theta = np.concatenate([a.ravel() for a in arrays]).astype(dtype)
        self.grad = np.zeros_like(self.theta)
        self.decay_mask = np.zeros_like(self.theta)  # 1 on weights: L2 leaves biases alone
        starts = []  # where each W and b begins: per-tensor sums in one np.add.reduceat
        offset = 0
        for layer in self.layers:
            w_end = offset + layer.W.size
            b_end = w_end + layer.b.size
            w_shape, b_shape = layer.W.shape, layer.b.shape
            layer.W = self.theta[offset:w_end].reshape(w_shape)
            layer.dW = self.grad[offset:w_end].reshape(w_shape)
            layer.b = self.theta[w_end:b_end].reshape(b_shape)
            layer.db = self.grad[w_end:b_end].reshape(b_shape)
            self.decay_mask[offset:w_end] = 1.0
            starts += [offset, w_end]
            offset = b_end
        self.segment_starts = np.array(starts)

    def forward(self, X: Array) -> Array:
        """The outputs before the loss (logits); every layer keeps its cache. X is left
        as it was."""
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, dout: Array) -> dict[str, Array]:
        """Gradients with the same keys as parameters(); dout may be overwritten."""
        self.backprop(dout)
        return self.gradients()

    def backprop(self, dout: Array) -> None:
        """backward() without building the dict: fills self.grad (every layer's dW and db
        are views into it). The Trainer's path, which reads the flat gradient."""
        layers = self.layers
        for i in range(len(layers) - 1, 0, -1):
            dx = layers[i].backward(dout)
            assert dx is not None  # need_dx is True
            dout = dx
        layers[0].backward(dout, need_dx=False)  # the input's gradient is not needed

    def parameters(self) -> dict[str, Array]:
        params = {}
        for i, layer in enumerate(self.layers):
            params[f"layers.{i}.W"] = layer.W
            params[f"layers.{i}.b"] = layer.b
        return params

    def gradients(self) -> dict[str, Array]:
        grads = {}
        for i, layer in enumerate(self.layers):
            grads[f"layers.{i}.W"] = layer.dW
            grads[f"layers.{i}.b"] = layer.db
        return grads

    def load_parameters(self, params: dict[str, Array]) -> None:
        """Copy values in place, keeping the dtype; shapes must match."""
        own = self.parameters()
        for name, value in params.items():
            if own[name].shape != value.shape:
                raise ValueError(f"{name}: shape {value.shape}, expected {own[name].shape}")
            own[name][...] = value

    def astype(self, dtype: np.dtype | type) -> MLP:
        """A deep copy in another dtype (float64 for gradient checks)."""
        clone = copy.deepcopy(self)
        for layer in clone.layers:
            layer.W = layer.W.astype(dtype)
            layer.b = layer.b.astype(dtype)
        clone._flatten()
        return clone

    @property
    def hidden_activations(self) -> list[Array]:
        return [layer.a for layer in self.layers[:-1]]

    @property
    def n_parameters(self) -> int:
        return int(self.theta.size)
