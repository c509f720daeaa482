"""The MLP: hidden layers with the chosen activation, then a linear output layer."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

from engine.nn.layers import Layer, StackedDense, StackedMaxout

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
        theta = np.concatenate([a.ravel() for a in arrays]).astype(dtype)
        self._point_into(theta, np.zeros_like(theta))

    def bind(self, theta: Array, grad: Array) -> None:
        """Move the parameters and gradients into these flat buffers (shaped like
        self.theta; the values are copied in): a StackedMLP hands each member a row of its
        own arrays, so the member's network is always the stacked one's."""
        theta[...] = self.theta
        grad[...] = self.grad
        self._point_into(theta, grad)

    def _point_into(self, theta: Array, grad: Array) -> None:
        """Make theta and grad the flat vectors, and every W, b, dW and db views into them."""
        self.theta, self.grad = theta, grad
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


class StackedMLP:
    """M networks of one architecture as one, for training them together. theta and grad
    are (M, P): row m is network m's own theta and grad (bind() makes them views of the
    row, so each network stays what the stacked one trains), and every layer holds its
    members' W, b, dW and db with a leading member axis."""

    def __init__(self, networks: Sequence[MLP]) -> None:
        first = networks[0]
        self.theta = np.stack([net.theta for net in networks])
        self.grad = np.stack([net.grad for net in networks])
        for m, net in enumerate(networks):
            net.bind(self.theta[m], self.grad[m])
        self.decay_mask = first.decay_mask
        self.segment_starts = first.segment_starts
        self.layers: list[StackedDense | StackedMaxout] = []
        for i, layer in enumerate(first.layers):
            w, b = first.segment_starts[2 * i : 2 * i + 2].tolist()
            end = b + layer.b.size
            kind = StackedMaxout if layer.pieces > 1 else StackedDense
            W_shape, b_shape = layer.W.shape, layer.b.shape
            self.layers.append(
                kind(
                    _columns(self.theta, w, b, W_shape),
                    _columns(self.theta, b, end, b_shape),
                    _columns(self.grad, w, b, W_shape),
                    _columns(self.grad, b, end, b_shape),
                    layer.activation,
                )
            )

    def forward(self, X: Array) -> Array:
        """X (M, N, inputs): each member's outputs before the loss (M, N, outputs)."""
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def outputs(self, X: Array) -> list[Array]:
        """Every layer's output (M, N, units) for inputs X, (N, inputs) shared by all the
        members or (M, N, inputs); the layers' caches stay those of the last forward."""
        outputs = []
        for layer in self.layers:
            X = layer.output(X)
            outputs.append(X)
        return outputs

    def backprop(self, dout: Array) -> None:
        """MLP.backprop for every member: fills self.grad."""
        layers = self.layers
        for i in range(len(layers) - 1, 0, -1):
            dx = layers[i].backward(dout)
            assert dx is not None  # need_dx is True
            dout = dx
        layers[0].backward(dout, need_dx=False)


def _columns(flat: Array, start: int, stop: int, shape: tuple[int, ...]) -> Array:
    """Columns start:stop of an (M, P) array as (M, *shape), a view (never a copy)."""
    return flat[:, start:stop].reshape(len(flat), *shape, copy=False)
