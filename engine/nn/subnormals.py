"""Subnormal floats, flushed to zero where training makes them.

A subnormal is a nonzero float below its dtype's smallest normal number (1.2e-38 in
float32). x86 cores compute with them through a microcode assist, tens of times slower a
value, and a long run makes them in two places: the softmax of a confident net (a wrong
class's exp under e^-87) and the optimizers' running averages where a gradient is zero
(Adam's m decays by beta1 a step into the subnormal range and stays there ~150 steps, its v
~16,000). At step 70,000 of the default net, unflushed, a step is 15% slower than a fresh
run's, and the flush makes it 6 to 9% faster (benchmarks/long_run_bench.py). PyTorch
offers the processor's own flush (torch.set_flush_denormal); NumPy has none, so the engine
zeroes them: the softmax's every step, the optimizer state every FLUSH_EVERY updates. A
value this small changes no weight: its update is below a float32 ulp of any weight above
1e-31.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray

# Updates between two flushes of the optimizer state: a subnormal lives at most this many
# steps, at one pass over the state per FLUSH_EVERY steps.
FLUSH_EVERY = 16


def flush_subnormals(a: Array) -> None:
    """Zero, in place, the entries of `a` whose magnitude is below the dtype's smallest
    normal number."""
    tiny = np.finfo(a.dtype).tiny
    np.copyto(a, 0, where=np.abs(a) < tiny)


def flush_small(a: Array) -> None:
    """flush_subnormals for an `a` of no negative entries (a softmax's exp): one pass less."""
    np.copyto(a, 0, where=a < np.finfo(a.dtype).tiny)
