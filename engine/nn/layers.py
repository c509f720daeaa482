"""Dense and Maxout layers: functional kernels with explicit caches, thin classes over them.

Weights are laid out (fan_in, fan_out); Maxout's are (fan_in, units, k).

The kernels write only what their docstrings name (dW, db, the returned arrays): x, W, b
and the incoming gradient are left as they were. A layer's backward(da) may overwrite da,
which the network hands over fresh; forward(x) leaves x alone.

Dense's products are written x.dot(W) rather than x @ W: the same BLAS call on 2-D
arrays, with about 0.3 µs less NumPy overhead a call, which shows on small batches.

The stacked_* kernels and Stacked* layers do the same for M networks of one shape at once,
with a leading member axis on every array: x (M, N, fan_in), W (M, fan_in, fan_out), b
(M, fan_out). np.matmul makes, for each member, the BLAS call the 2-D kernel makes, so every
member's numbers are bit for bit its own network's (tests/engine/test_stacked*.py check it).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from engine.nn.activations import Activation

Array = np.ndarray


def dense_forward(x: Array, W: Array, b: Array) -> Array:
    """z = x W + b, a new array."""
    z = x.dot(W)  # x @ W
    z += b  # in place: one new array a layer, not two
    return z


def dense_backward(
    dz: Array, x: Array, W: Array, dW: Array, db: Array, need_dx: bool = True
) -> Array | None:
    """Writes dW and db in place (they are views into the network's flat gradient);
    returns dx, or None for the first layer, whose dx nobody needs."""
    np.dot(x.T, dz, out=dW)  # dW = x.T @ dz
    # db = dz.sum(axis=0), as ones @ dz: a BLAS call, cheaper than NumPy's axis reduction
    # on small batches, and no slower on big ones.
    np.dot(ones(dz.shape[0], dz.dtype), dz, out=db)
    return dz.dot(W.T) if need_dx else None  # dx = dz @ W.T


_ONES: dict[tuple[int, np.dtype], Array] = {}


def ones(n: int, dtype: np.dtype) -> Array:
    """np.ones(n, dtype), read-only and kept: sums as products with it recur every step."""
    vector = _ONES.get((n, dtype))
    if vector is None:
        vector = _ONES[(n, dtype)] = np.ones(n, dtype)
        vector.flags.writeable = False
    return vector


def maxout_forward(x: Array, W: Array, b: Array) -> tuple[Array, Array]:
    """out[n, u] = max_j (x W[:, u, j] + b[u, j]); returns out and the winning piece."""
    fan_in, units, k = W.shape
    z = (x @ W.reshape(fan_in, units * k) + b.reshape(-1)).reshape(-1, units, k)
    winner = z.argmax(axis=2)
    out = np.take_along_axis(z, winner[..., None], axis=2)[..., 0]
    return out, winner


def maxout_backward(
    dout: Array, x: Array, winner: Array, W: Array, dW: Array, db: Array, need_dx: bool = True
) -> Array | None:
    """Routes each unit's gradient to its winning piece; dW, db written in place."""
    fan_in, units, k = W.shape
    dz = np.zeros((dout.shape[0], units, k), dtype=dout.dtype)
    np.put_along_axis(dz, winner[..., None], dout[..., None], axis=2)
    dz2 = dz.reshape(-1, units * k)
    np.matmul(x.T, dz2, out=dW.reshape(fan_in, units * k))
    dz2.sum(axis=0, out=db.reshape(units * k))
    return dz2 @ W.reshape(fan_in, units * k).T if need_dx else None


def member_vdots(x: Array) -> Array:
    """np.vdot(x[m], x[m]) for every member m of a C-contiguous x, in one call: matmul of
    (M, 1, K) by (M, K, 1) runs the dot loop vdot runs."""
    rows = x.reshape(x.shape[0], 1, -1)
    return np.matmul(rows, rows.transpose(0, 2, 1)).reshape(-1)


def stacked_dense_forward(x: Array, W: Array, b: Array) -> Array:
    """dense_forward for each member: z[m] = x[m] W[m] + b[m], a new array."""
    z = np.matmul(x, W)
    z += b[:, None]
    return z


def stacked_dense_backward(
    dz: Array, x: Array, W: Array, dW: Array, db: Array, need_dx: bool = True
) -> Array | None:
    """dense_backward for each member: dW and db (views) written in place; returns dx."""
    np.matmul(x.transpose(0, 2, 1), dz, out=dW)
    np.matmul(ones(dz.shape[1], dz.dtype), dz, out=db)
    return np.matmul(dz, W.transpose(0, 2, 1)) if need_dx else None


def stacked_maxout_forward(x: Array, W: Array, b: Array) -> tuple[Array, Array]:
    """maxout_forward for each member; W is (M, fan_in, units, k)."""
    m, fan_in, units, k = W.shape
    z = np.matmul(x, W.reshape(m, fan_in, units * k))
    z += b.reshape(m, 1, units * k)
    z = z.reshape(m, -1, units, k)
    winner = z.argmax(axis=3)
    out = np.take_along_axis(z, winner[..., None], axis=3)[..., 0]
    return out, winner


def stacked_maxout_backward(
    dout: Array, x: Array, winner: Array, W: Array, dW: Array, db: Array, need_dx: bool = True
) -> Array | None:
    """maxout_backward for each member; dW and db (views) written in place."""
    m, fan_in, units, k = W.shape
    dz = np.zeros((*dout.shape, k), dtype=dout.dtype)
    np.put_along_axis(dz, winner[..., None], dout[..., None], axis=3)
    dz2 = dz.reshape(m, -1, units * k)
    np.matmul(x.transpose(0, 2, 1), dz2, out=dW.reshape(m, fan_in, units * k, copy=False))
    dz2.sum(axis=1, out=db.reshape(m, units * k, copy=False))
    if not need_dx:
        return None
    return np.matmul(dz2, W.reshape(m, fan_in, units * k).transpose(0, 2, 1))


class Layer(Protocol):
    W: Array
    b: Array
    dW: Array
    db: Array
    activation: Activation
    x: Array  # the input of the last forward
    a: Array  # the output of the last forward, after the activation

    @property
    def units(self) -> int: ...

    @property
    def pieces(self) -> int:
        """Affine pieces per unit: 1 for Dense, k for Maxout (k times the parameters)."""
        ...

    def local_gradient(self) -> Array:
        """da/dz of the last forward, per sample and unit: what backprop multiplies by at
        each unit (0 where a ReLU is off or a tanh saturated). A new array."""
        ...

    def forward(self, x: Array) -> Array:
        """The layer's output for x (a new array); keeps what backward needs."""
        ...

    def backward(self, da: Array, need_dx: bool = True) -> Array | None:
        """Fills dW and db from da (which it may overwrite); returns dx, or None when
        not need_dx."""
        ...


class Dense:
    """x -> activation(x W + b)."""

    def __init__(self, W: Array, b: Array, activation: Activation) -> None:
        self.W, self.b, self.activation = W, b, activation
        self.dW = np.zeros_like(W)
        self.db = np.zeros_like(b)

    @property
    def units(self) -> int:
        return int(self.W.shape[1])

    @property
    def pieces(self) -> int:
        return 1

    def local_gradient(self) -> Array:
        return self.activation.backward(np.ones_like(self.a), self.z, self.a)

    def forward(self, x: Array) -> Array:
        z = dense_forward(x, self.W, self.b)
        self.x = x
        # forward may overwrite z (ReLU does, in place): keep a copy only when backward
        # reads z; otherwise self.z is whatever forward left, and nothing reads it.
        self.z = z.copy() if self.activation.needs_input else z
        self.a = self.activation.forward(z)
        return self.a

    def backward(self, da: Array, need_dx: bool = True) -> Array | None:
        dz = self.activation.backward(da, self.z, self.a)
        return dense_backward(dz, self.x, self.W, self.dW, self.db, need_dx)


class Maxout:
    """x -> max over k affine pieces; the activation after it is the identity."""

    def __init__(self, W: Array, b: Array, activation: Activation) -> None:
        self.W, self.b, self.activation = W, b, activation
        self.dW = np.zeros_like(W)
        self.db = np.zeros_like(b)

    @property
    def units(self) -> int:
        return int(self.W.shape[1])

    @property
    def pieces(self) -> int:
        return int(self.W.shape[2])

    def local_gradient(self) -> Array:
        # The winning piece passes its gradient unchanged: the max is the identity on it.
        return np.ones_like(self.a)

    def forward(self, x: Array) -> Array:
        self.x = x
        self.a, self.winner = maxout_forward(x, self.W, self.b)
        return self.a

    def backward(self, da: Array, need_dx: bool = True) -> Array | None:
        return maxout_backward(da, self.x, self.winner, self.W, self.dW, self.db, need_dx)


class StackedDense:
    """M Dense layers of one shape as one: W (M, fan_in, fan_out), b (M, fan_out), and their
    gradients, are views the StackedMLP hands in."""

    def __init__(self, W: Array, b: Array, dW: Array, db: Array, activation: Activation) -> None:
        self.W, self.b, self.dW, self.db, self.activation = W, b, dW, db, activation

    def output(self, x: Array) -> Array:
        """forward(x) without keeping anything (the caches stay the last forward's)."""
        return self.activation.forward(stacked_dense_forward(x, self.W, self.b))

    def forward(self, x: Array) -> Array:
        z = stacked_dense_forward(x, self.W, self.b)
        self.x = x
        self.z = z.copy() if self.activation.needs_input else z  # as Dense.forward
        self.a = self.activation.forward(z)
        return self.a

    def backward(self, da: Array, need_dx: bool = True) -> Array | None:
        dz = self.activation.backward(da, self.z, self.a)
        return stacked_dense_backward(dz, self.x, self.W, self.dW, self.db, need_dx)


class StackedMaxout:
    """M Maxout layers of one shape as one: W (M, fan_in, units, k), b (M, units, k)."""

    def __init__(self, W: Array, b: Array, dW: Array, db: Array, activation: Activation) -> None:
        self.W, self.b, self.dW, self.db, self.activation = W, b, dW, db, activation

    def output(self, x: Array) -> Array:
        """forward(x) without keeping anything (the caches stay the last forward's)."""
        return stacked_maxout_forward(x, self.W, self.b)[0]

    def forward(self, x: Array) -> Array:
        self.x = x
        self.a, self.winner = stacked_maxout_forward(x, self.W, self.b)
        return self.a

    def backward(self, da: Array, need_dx: bool = True) -> Array | None:
        return stacked_maxout_backward(da, self.x, self.winner, self.W, self.dW, self.db, need_dx)
